import { LESSONS, lessonHref } from './catalog';

/** The front page's lessons card: start at lesson 1, or pick one. */
export function LessonsSection() {
  return (
    <section className="panel lessons-card" id="lessons" data-testid="lessons">
      <h2>Lessons</h2>
      <p className="note">New to GPTQ? The worked examples of the GPTQ notes, with numbers you can change. They run on this page, without the GPU.</p>
      <p><a href={lessonHref(1)} className="start-lessons" data-testid="start-lessons">Start with lesson 1 →</a></p>
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
