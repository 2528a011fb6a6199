import { readFileSync, statSync } from 'node:fs';

/**
 * A file's parsed content, read again when the file's size or modification
 * time changes: secrets and policies mounted from a volume (a projected
 * service-account token, a JWKS, a role bindings file) are rewritten in place
 * while the process runs.
 *
 * A check that fails (the file missing, unreadable, or `parse` throwing)
 * throws to the caller and keeps the last content that parsed: the next check
 * tries again, so a file caught half written is taken once it is whole.
 */
export class ReloadedFile<T> {
  private loaded: { value: T; stamp: string } | undefined;
  private checkedAt = 0;

  /**
   * @param parse - turns the file's text into its content; `stamp` (size and
   *   modification time) names the version read, for etags.
   * @param checkEveryMillis - the file is looked at no more often than this
   *   (always while nothing has loaded yet); 0, the default, looks at every
   *   {@link ReloadedFile.read}.
   */
  constructor(
    readonly file: string,
    private readonly parse: (text: string, stamp: string) => T,
    private readonly checkEveryMillis = 0,
  ) {}

  /** The content as of the last check, checking the file first when it is due. */
  read(): T {
    const now = Date.now();
    if (this.loaded && now - this.checkedAt < this.checkEveryMillis) return this.loaded.value;
    this.checkedAt = now;
    const stats = statSync(this.file);
    const stamp = `${stats.size}:${stats.mtimeMs}`;
    if (this.loaded?.stamp !== stamp) {
      this.loaded = { value: this.parse(readFileSync(this.file, 'utf8'), stamp), stamp };
    }
    return this.loaded.value;
  }
}

/** A bearer token file (HERALD_TOKEN_FILE), read again when it changes. */
export class TokenFile extends ReloadedFile<string> {
  constructor(file: string) {
    super(file, (text) => text.trim());
  }
}
