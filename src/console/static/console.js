// The console's only script of its own (a file, as the Content-Security-Policy wants): opening a
// card's thumbnail plays its video; closing it pauses. Without it the video still shows, with
// controls, and plays from its play button.
document.addEventListener(
  'toggle',
  (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement)) return;
    const video = details.querySelector('video');
    if (!video) return;
    if (details.open) video.play().catch(() => {});
    else video.pause();
  },
  true,
);
