import { LESSONS, lessonHref } from './catalog';

/** The front page's list of lessons. */
export function LessonsSection() {
  return (
    <section className="panel" id="lessons" data-testid="lessons">
      <h2>Lessons</h2>
      <p className="note">The worked examples of the GPTQ notes, with numbers you can change. They run on this page, without the GPU.</p>
      <ol className="lesson-list">
        {LESSONS.map((l) => (
          <li key={l.n}>
            <a href={lessonHref(l.n)} data-testid={`lesson-link-${l.n}`}>
              Lesson {l.n}: {l.title}
            </a>
            {!l.built && ' — not yet'}
            <span className="note"> {l.blurb}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
