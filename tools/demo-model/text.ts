/**
 * The King James Bible from Debian's bible-kjv package, cleaned into plain prose:
 * verse numbers and chapter headings dropped, wrapped lines joined, one paragraph per chapter.
 */
import { execFileSync } from 'node:child_process';

export interface Book {
  name: string;
  /** One paragraph per chapter, verses joined by single spaces. */
  chapters: string[];
}

/** Chapter headings as `bible` prints them: "Genesis 1", "1 Samuel 12", "Song of Solomon 3". */
const HEADING = /^((?:[123] )?[A-Z][a-z]+(?: of [A-Z][a-z]+)?) (\d+)$/;
/** A verse starts with its number, indented: "  12 And ...". */
const VERSE = /^ +(\d+) (.*)$/;

function hasBible(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v bible'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The whole KJV as `bible` prints it, installing bible-kjv first when it is missing. */
export function readBibleRaw(): string {
  if (!hasBible()) {
    const install = ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', 'bible-kjv'];
    const [cmd, ...args] = process.getuid?.() === 0 ? ['env', ...install] : ['sudo', ...install];
    console.log(`bible is missing: ${cmd} ${args.join(' ')}`);
    execFileSync(cmd, args, { stdio: 'inherit' });
  }
  return execFileSync('bible', ['gen1:1-rev22:21'], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Parses `bible` output into books of chapter paragraphs. */
export function parseBible(raw: string): Book[] {
  const books: Book[] = [];
  let verses: string[] | null = null; // verses of the current chapter
  let verse: string | null = null; // the verse being unwrapped
  const endVerse = () => {
    if (verse !== null && verses) verses.push(verse.trim().replace(/\s+/g, ' '));
    verse = null;
  };
  const endChapter = () => {
    endVerse();
    if (verses && verses.length > 0) books[books.length - 1].chapters.push(verses.join(' '));
    verses = null;
  };
  for (const line of raw.split('\n')) {
    const heading = HEADING.exec(line);
    if (heading) {
      endChapter();
      const name = heading[1];
      if (books.length === 0 || books[books.length - 1].name !== name) books.push({ name, chapters: [] });
      verses = [];
      continue;
    }
    if (line.trim() === '') continue;
    if (!verses) throw new Error(`KJV text: a line before the first chapter heading: ${JSON.stringify(line)}`);
    const v = VERSE.exec(line);
    if (v) {
      endVerse();
      verse = v[2];
    } else {
      if (verse === null) throw new Error(`KJV text: a continuation line outside a verse: ${JSON.stringify(line)}`);
      verse += ' ' + line;
    }
  }
  endChapter();
  return books;
}

/** Chapters as paragraphs separated by a blank line. */
export function booksText(books: readonly Book[]): string {
  return books.map((b) => b.chapters.join('\n\n')).join('\n\n') + '\n';
}

/** The deterministic split by book name. */
export const EVAL_BOOKS = ['Amos', 'Jonah', 'Micah', 'Philippians', 'James', 'Jude'];
export const CALIBRATION_BOOKS = ['Ruth', 'Esther', 'Ecclesiastes', 'Mark'];

export interface Split {
  train: string;
  calibration: string;
  evalKjv: string;
  trainBooks: string[];
}

export function splitBible(books: readonly Book[]): Split {
  const byName = new Map(books.map((b) => [b.name, b]));
  const pick = (names: readonly string[]) => names.map((n) => {
    const b = byName.get(n);
    if (!b) throw new Error(`KJV text: book "${n}" not found`);
    return b;
  });
  const trainBooks = books.filter((b) => !EVAL_BOOKS.includes(b.name));
  return {
    train: booksText(trainBooks),
    calibration: booksText(pick(CALIBRATION_BOOKS)),
    evalKjv: booksText(pick(EVAL_BOOKS)),
    trainBooks: trainBooks.map((b) => b.name),
  };
}

/** The installed Debian package, e.g. "bible-kjv-text 4.38". */
export function bibleSource(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'bible-kjv-text'], { encoding: 'utf8' }).trim();
  } catch {
    return 'bible-kjv-text (version unknown)';
  }
}
