interface Waiting<Input, Output> {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls made during one turn of the event loop and answers them with one call of
 * `runBatch` per `maxSize` of them, run right after the turn's I/O callbacks (setImmediate): an
 * idle server sends a batch of one at once, a busy one sends together what arrived together.
 * `runBatch` answers the inputs in their order; when it fails, every call of its batch fails.
 */
export class TurnBatcher<Input, Output> {
  private waiting: Waiting<Input, Output>[] = [];

  constructor(
    private readonly maxSize: number,
    private readonly runBatch: (inputs: Input[]) => Promise<Output[]>,
  ) {}

  run(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      if (this.waiting.push({ input, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let start = 0; start < waiting.length; start += this.maxSize) {
      const batch = waiting.slice(start, start + this.maxSize);
      this.runBatch(batch.map((call) => call.input)).then(
        (outputs) => batch.forEach((call, index) => call.resolve(outputs[index])),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      );
    }
  }
}
