import { problems } from '../http/problem.ts';
import { type Media, MediaError } from '../media/index.ts';
import type { createDecodeSlots } from './decode-slots.ts';
import { type AudioType, audioCodecsOf } from './sniff.ts';

const names: Record<AudioType, string> = {
  'audio/mpeg': 'MP3',
  'audio/aac': 'AAC (ADTS)',
  'audio/mp4': 'M4A',
  'audio/wav': 'WAV',
  'audio/ogg': 'Ogg',
};

/**
 * Audio assets (a spot's audio bed) are checked like logos: the sniffed container must hold
 * one audio stream of a codec it may carry and no picture, every frame must decode, and the
 * size and length limits hold. Each refusal is a 422 naming what is wrong with `file`.
 */
export function createAudioInspector(deps: {
  media: Media;
  slots: ReturnType<typeof createDecodeSlots>;
  maxBytes: number;
  maxSeconds: number;
}) {
  const refuse = (detail: string, message: string) =>
    problems.unprocessable(detail, [{ path: 'file', message }]);

  const tooLarge = (bytes: string) =>
    refuse(
      `Audio may be at most ${deps.maxBytes} bytes (ASSET_AUDIO_MAX_BYTES).`,
      `too large: ${bytes} bytes`,
    );

  return {
    /** For an upload cut off at the form's limit: only its first bytes were kept. */
    tooLarge,
    async inspect(path: string, type: AudioType, bytes: number) {
      const name = names[type];
      if (bytes > deps.maxBytes) throw tooLarge(String(bytes));
      let facts: Awaited<ReturnType<Media['probeAudio']>>;
      try {
        facts = await deps.slots.run(async () => {
          const probed = await deps.media.probeAudio(path);
          // The length is known before the decode, which is what a long file costs.
          if (probed.duration_s > deps.maxSeconds || !probed.codec || probed.has_video)
            return probed;
          await deps.media.decodeCheck(path);
          return probed;
        });
      } catch (err) {
        if (err instanceof MediaError)
          throw refuse(`The ${name} file is corrupt or truncated.`, 'cannot be decoded');
        throw err;
      }
      if (facts.has_video)
        throw refuse('Audio assets hold sound only; this file has a video stream.', 'has video');
      if (!facts.codec || !audioCodecsOf[type](facts.codec))
        throw refuse(
          `The ${name} file holds ${facts.codec ? `${facts.codec} audio` : 'no audio stream'}.`,
          `not ${name} audio`,
        );
      if (facts.duration_s <= 0)
        throw refuse(`The ${name} file has no duration.`, 'empty: no duration');
      if (facts.duration_s > deps.maxSeconds)
        throw refuse(
          `Audio may last at most ${deps.maxSeconds} s (ASSET_AUDIO_MAX_SECONDS).`,
          `too long: ${facts.duration_s.toFixed(2)} s`,
        );
      return {
        contentType: type,
        width: null,
        height: null,
        durationS: Math.round(facts.duration_s * 1000) / 1000,
      };
    },
  };
}
