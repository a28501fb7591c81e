import { lessonEntry, lessonHref } from './catalog';

/** Links to the previous and next lesson, and back to the list. */
export function LessonNav({ n }: { n: number }) {
  const prev = lessonEntry(n - 1);
  const next = lessonEntry(n + 1);
  return (
    <nav className="lesson-nav" aria-label="Lessons">
      {prev ? (
        <a href={lessonHref(prev.n)} rel="prev" data-testid="lesson-prev">
          ← Lesson {prev.n}: {prev.title}
        </a>
      ) : (
        <span />
      )}
      <a href="./#lessons" className="all">All lessons</a>
      {next ? (
        <a href={lessonHref(next.n)} rel="next" data-testid="lesson-next">
          Lesson {next.n}: {next.title} →
        </a>
      ) : (
        <span />
      )}
    </nav>
  );
}
