/** Lesson 4 needs the demo model, which is not built; the page says so and shows nothing else. */
export function Lesson4() {
  return (
    <section className="panel not-yet" data-testid="lesson-4-not-yet">
      <h3>Not yet</h3>
      <p>
        This lesson will show H’s diagonal and the error RTN and GPTQ leave in each column of a real layer of the
        studio’s demo model, and that model is not built yet, so there is nothing honest to show here.
      </p>
    </section>
  );
}
