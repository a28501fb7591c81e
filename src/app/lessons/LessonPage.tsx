import { useEffect, type ComponentType } from 'react';
import { LESSON_COUNT, lessonEntry } from './catalog';
import { Lesson1 } from './lesson1/Lesson1';
import { Lesson2 } from './lesson2/Lesson2';
import { Lesson3 } from './lesson3/Lesson3';
import { Lesson4 } from './lesson4/Lesson4';
import { LessonNav } from './LessonNav';

const BODIES: Record<number, ComponentType> = { 1: Lesson1, 2: Lesson2, 3: Lesson3, 4: Lesson4 };

/** One lesson: its title, its body, and links to its neighbours. Default export for React.lazy. */
export default function LessonPage({ n }: { n: number }) {
  const entry = lessonEntry(n)!;
  const Body = BODIES[n];
  useEffect(() => {
    document.title = `Lesson ${n}: ${entry.title} · GPTQ Studio`;
  }, [n, entry.title]);
  return (
    <article className="lesson" data-testid={`lesson-${n}`}>
      <LessonNav n={n} />
      <h2 className="lesson-title">
        Lesson {n} of {LESSON_COUNT}: {entry.title}
        {!entry.built && ' — not yet'}
      </h2>
      <Body />
      <LessonNav n={n} />
    </article>
  );
}
