/**
 * A checkpoint that cannot be used as it is. The message names the file (and the tensor where there
 * is one), says what is wrong and what to do; `file` and `tensor` carry the same for the UI.
 */
export class CheckpointError extends Error {
  readonly file?: string;
  readonly tensor?: string;

  constructor(message: string, where: { file?: string; tensor?: string } = {}) {
    super(message);
    this.name = 'CheckpointError';
    this.file = where.file;
    this.tensor = where.tensor;
  }
}
