import { decodeDataUri, inspectImage } from '../fake-provider/image.ts';

/**
 * Runway's own per-model rules, written from its docs independently of
 * src/providers/runway/catalog.ts, so a wrong catalog entry shows up as a 400 here.
 */
interface FakeModel {
  t2v: readonly string[] | null;
  i2v: readonly string[];
  durations: readonly number[];
  durationRequired: boolean;
  defaultDuration: number;
  audio: boolean;
  credits: { base: number; audio?: number };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const GEN4_I2V = ['1280:720', '720:1280', '1104:832', '960:960', '832:1104', '1584:672'];
const VEO = ['1280:720', '720:1280', '1080:1920', '1920:1080'];

export const FAKE_MODELS: Record<string, FakeModel> = {
  'gen4.5': {
    t2v: ['1280:720', '720:1280'],
    i2v: GEN4_I2V,
    durations: range(2, 10),
    durationRequired: true,
    defaultDuration: 5,
    audio: false,
    credits: { base: 12 },
  },
  gen4_turbo: {
    t2v: null,
    i2v: GEN4_I2V,
    durations: range(2, 10),
    durationRequired: false,
    defaultDuration: 10,
    audio: false,
    credits: { base: 5 },
  },
  'veo3.1': {
    t2v: VEO,
    i2v: VEO,
    durations: [4, 6, 8],
    durationRequired: false,
    defaultDuration: 8,
    audio: true,
    credits: { base: 20, audio: 40 },
  },
  'veo3.1_fast': {
    t2v: VEO,
    i2v: VEO,
    durations: [4, 6, 8],
    durationRequired: false,
    defaultDuration: 8,
    audio: true,
    credits: { base: 10, audio: 15 },
  },
};

const DATA_URI = /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+=*$/;
const MAX_DATA_URI = 5 * 1024 * 1024;

function checkImageUri(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri === '') return "Invalid parameter 'promptImage'";
  if (uri.startsWith('data:')) {
    if (uri.length > MAX_DATA_URI) return 'promptImage data URI exceeds 5MB';
    if (!DATA_URI.test(uri)) return "Invalid parameter 'promptImage': not a base64 image data URI";
    // The bytes must be the image the URI says they are.
    const decoded = decodeDataUri(uri)!;
    if (inspectImage(decoded.bytes).type !== decoded.declared)
      return `Invalid parameter 'promptImage': the data is not a valid ${decoded.declared} image`;
    return null;
  }
  if (uri.startsWith('runway://')) return null;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "Invalid parameter 'promptImage': not a URL";
  }
  if (url.protocol !== 'https:') return "Invalid parameter 'promptImage': URLs must use HTTPS";
  // Runway refuses IP addresses: the host must be a domain name.
  if (/^[\d.]+$/.test(url.hostname) || url.hostname.includes(':') || url.hostname.startsWith('['))
    return "Invalid parameter 'promptImage': URLs must use a domain name, not an IP address";
  return null;
}

export interface ValidCreate {
  model: string;
  promptText: string;
  ratio: string;
  duration: number;
  audio: boolean;
  promptImage: unknown;
  credits: number;
}

/** Validates a create body as Runway would; a string is the 400's `error` text. */
export function validateCreate(
  route: 'text_to_video' | 'image_to_video',
  body: Record<string, unknown>,
): ValidCreate | string {
  const name = body.model;
  const m = typeof name === 'string' ? FAKE_MODELS[name] : undefined;
  if (typeof name !== 'string' || !m) return "Invalid parameter 'model'";
  const ratios = route === 'text_to_video' ? m.t2v : m.i2v;
  if (!ratios) return `Model ${name} does not support ${route}`;
  const prompt = body.promptText;
  if (route === 'text_to_video' || prompt !== undefined) {
    if (typeof prompt !== 'string' || prompt.trim() === '') return "Invalid parameter 'promptText'";
    // `length` counts UTF-16 code units, which is what Runway limits.
    if (prompt.length > 1000)
      return "Invalid parameter 'promptText': must be at most 1000 characters";
  }
  if (typeof body.ratio !== 'string' || !ratios.includes(body.ratio))
    return `Invalid parameter 'ratio': must be one of ${ratios.join(', ')}`;
  let duration = m.defaultDuration;
  if (body.duration === undefined) {
    if (m.durationRequired) return "Invalid parameter 'duration': required";
  } else if (typeof body.duration !== 'number' || !m.durations.includes(body.duration)) {
    return `Invalid parameter 'duration': must be one of ${m.durations.join(', ')}`;
  } else {
    duration = body.duration;
  }
  if (body.audio !== undefined && (!m.audio || typeof body.audio !== 'boolean'))
    return "Invalid parameter 'audio'";
  if (route === 'image_to_video') {
    const img = body.promptImage;
    if (img === undefined) return "Invalid parameter 'promptImage': required";
    const uris = Array.isArray(img) ? img.map((i) => (i as { uri?: unknown })?.uri) : [img];
    for (const uri of uris) {
      const problem = checkImageUri(uri);
      if (problem) return problem;
    }
  }
  const audio = body.audio === true;
  const perSecond = audio && m.credits.audio !== undefined ? m.credits.audio : m.credits.base;
  return {
    model: name,
    promptText: typeof prompt === 'string' ? prompt : '',
    ratio: body.ratio,
    duration,
    audio,
    promptImage: body.promptImage,
    credits: perSecond * duration,
  };
}
