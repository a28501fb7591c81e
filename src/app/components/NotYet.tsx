/** What the studio will do and does not do yet, said plainly; no controls that do nothing. */
export function NotYet() {
  return (
    <>
      <section className="panel not-yet" data-testid="not-yet-quantize">
        <h2>Quantize a model — not yet</h2>
        <p>
          Dropping a Hugging Face checkpoint here, quantizing it layer by layer on this GPU and downloading the
          result is not built yet. What runs today is the GPTQ engine for one layer; the{' '}
          <a href="?check=layer">layer check</a> runs it on a random layer and compares it with an f64 reference.
        </p>
      </section>
    </>
  );
}
