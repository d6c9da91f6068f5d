// What is on screen, not in the DOM: how many pixels of an element's screenshot have each of
// the given colours (`#rrggbb`, within a small distance). Shared by the report and web UI
// checks, which use it to see that each chart's legend colours are really drawn.

/** Pixels of `locator`'s screenshot near each colour of `colors`, in order. */
export async function colourCounts(page, locator, colors) {
  const png = await locator.screenshot();
  return page.evaluate(async ({ data, colors }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    const want = colors.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    const n = want.map(() => 0);
    for (let i = 0; i < px.length; i += 4) {
      want.forEach((w, k) => {
        if (Math.abs(px[i] - w[0]) + Math.abs(px[i + 1] - w[1]) + Math.abs(px[i + 2] - w[2]) < 40) n[k] += 1;
      });
    }
    return n;
  }, { data: png.toString('base64'), colors });
}
