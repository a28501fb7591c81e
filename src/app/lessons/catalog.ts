/** The lessons, in order: what each is called and whether it is built. */

export interface LessonEntry {
  n: number;
  title: string;
  /** One line on what the lesson shows, for the front page. */
  blurb: string;
  /** False: the page says "not yet" and why, and has no controls. */
  built: boolean;
}

export const LESSONS: readonly LessonEntry[] = [
  {
    n: 1,
    title: 'Round where the layer can survive',
    blurb: 'One row of weights, a few inputs, a coarse grid: judge each rounding by what the layer outputs, and watch GPTQ pick.',
    built: true,
  },
  {
    n: 2,
    title: 'The exercise',
    blurb: 'Work out the output errors of the notes’ candidates yourself, pick one, and have the page check it.',
    built: true,
  },
  {
    n: 3,
    title: 'GPTQ, one column at a time',
    blurb: 'Step through GPTQ on a small seeded layer: each column quantized, its error pushed into the rest.',
    built: true,
  },
  {
    n: 4,
    title: 'Where pain lands',
    blurb: 'A real layer of the demo model: which inputs are sensitive, and where RTN’s and GPTQ’s errors land.',
    built: true,
  },
];

export const LESSON_COUNT = LESSONS.length;

export function lessonHref(n: number): string {
  return `?lesson=${n}`;
}

export function lessonEntry(n: number): LessonEntry | undefined {
  return LESSONS.find((l) => l.n === n);
}
