// The password of `npm run user:create`, from standard input: never an argument, which `ps` and the
// shell history would show.

// Far more than the longest password (128 characters of at most 4 bytes): a file piped by mistake stops here.
const PIPED_MAX_BYTES = 4096;

/**
 * Typed at a prompt without echo when stdin is a terminal; else the one line piped in (its line ending
 * dropped). Rejects what is not UTF-8 (a replacement character would silently stand in for each bad
 * byte) and more than one line.
 */
export function readPassword(prompt = 'Password: '): Promise<string> {
  return process.stdin.isTTY ? promptWithoutEcho(prompt) : readPiped();
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > PIPED_MAX_BYTES) throw new Error('the password on standard input is too long');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new Error('the password on standard input is not UTF-8');
  }
  const password = text.replace(/(\r\n|\r|\n)$/, '');
  if (/[\r\n]/.test(password)) throw new Error('the password on standard input must be one line');
  return password;
}

// Raw mode: the terminal neither echoes nor edits, so Enter, Backspace and Ctrl-C are handled here.
function promptWithoutEcho(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          return resolve(typed.join(''));
        }
        if (char === '\u0003') {
          finish();
          return reject(new Error('cancelled'));
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed.push(char);
      }
    };
    stdin.on('data', onData);
  });
}
