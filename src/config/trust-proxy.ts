import proxyAddr from 'proxy-addr';
import { ConfigurationError } from '../auth/index.js';

/**
 * Whether the address `hop` steps from us is a proxy we believe: hop 0 is the socket's peer, then the
 * `X-Forwarded-For` entries from the right. The first address not believed is the client's.
 */
export type TrustProxy = (address: string, hop: number) => boolean;

const FORMS = 'a number of proxies (0 ignores X-Forwarded-For) or a comma-separated list of proxy addresses/CIDRs';

/** TRUST_PROXY as a trust function for both adapters; unset is 0. Never trusts everything, so never the left-most entry. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text) || text === '') {
    const hops = Number(text);
    if (!Number.isSafeInteger(hops)) throw new ConfigurationError([`TRUST_PROXY must be ${FORMS}`]);
    return (_address, hop) => hop < hops;
  }
  const entries = text.split(',').map((entry) => entry.trim());
  try {
    return proxyAddr.compile(entries);
  } catch {
    throw new ConfigurationError([`TRUST_PROXY must be ${FORMS}; "${entries.join(',')}" is neither`]);
  }
}
