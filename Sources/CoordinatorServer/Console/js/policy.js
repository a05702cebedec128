// The organisation's policy versions, as the coordinator stores them, checked here as far as a browser can
// without the admins' keys: every version's hash is recomputed from its document (kura/policy/v1), the chain
// links (version + 1, `previous` = the predecessor's recomputed hash, same organisation) are followed from the
// genesis, the genesis hash must be the organisation's and the one this browser saw first, and the version
// the coordinator says is in force must be one of them. Any break is reported as a problem, and screens that
// build documents refuse to continue.
import { documentDigest, toHex } from './canonical.js';
import { get } from './api.js';
import { TAGS, nowSeconds } from './documents.js';
import { k } from './i18n.js';
import { path, session } from './session.js';

const TTL_MS = 20000;
let cache = null;

/** Drops the cached policies (after a sign-out or when a screen wants fresh data). */
export function invalidate() {
  cache = null;
}

function pinKey(org) {
  return `kura.console.genesis.${org}`;
}

/** The genesis hash this browser saw first for an organisation (trust on first use), if any. */
export function pinnedGenesis(org) {
  try {
    return localStorage.getItem(pinKey(org));
  } catch {
    return null;
  }
}

function pinGenesis(org, hash) {
  try {
    if (!localStorage.getItem(pinKey(org))) localStorage.setItem(pinKey(org), hash);
  } catch {
    // not pinned
  }
}

/** Forgets the pinned genesis hash of an organisation (after an admin confirmed a new one out of band). */
export function unpinGenesis(org) {
  try {
    localStorage.removeItem(pinKey(org));
  } catch {
    // nothing to forget
  }
}

async function fetchAll() {
  const [orgAnswer, listAnswer, docsAnswer] = await Promise.all([
    get(path('')),
    get(path('/policies')),
    get(path('/policies?documents=true')),
  ]);
  const org = orgAnswer && orgAnswer.organization;
  const list = (listAnswer && listAnswer.policies) || [];
  const docs = (docsAnswer && docsAnswer.policies) || [];
  const problems = [];
  const byVersion = new Map();
  for (const signed of docs) {
    const policy = signed && signed.policy;
    if (!policy || typeof policy.version !== 'number') {
      problems.push({ key: k('policy.problem.unreadable'), params: {} });
      continue;
    }
    const hash = toHex(await documentDigest(TAGS.policy, policy));
    byVersion.set(policy.version, { version: policy.version, policy, signatures: signed.signatures || [], hash });
  }
  const versions = [];
  for (const meta of list) {
    const v = byVersion.get(meta.version);
    if (!v) {
      problems.push({ key: k('policy.problem.missingDocument'), params: { version: meta.version } });
      continue;
    }
    v.storedAt = meta.storedAt;
    v.listedHash = meta.hash;
    if (meta.hash !== v.hash) problems.push({ key: k('policy.problem.hashMismatch'), params: { version: v.version } });
    versions.push(v);
  }
  versions.sort((a, b) => a.version - b.version);
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i];
    if (v.version !== i + 1) problems.push({ key: k('policy.problem.gap'), params: { version: v.version } });
    if (v.policy.organization !== session.org) problems.push({ key: k('policy.problem.organization'), params: { version: v.version } });
    const previous = i === 0 ? undefined : versions[i - 1].hash;
    if ((v.policy.previous ?? undefined) !== previous) {
      problems.push({ key: k('policy.problem.link'), params: { version: v.version } });
    }
  }
  const genesis = versions[0];
  if (!org || !genesis || genesis.hash !== org.genesis) {
    problems.push({ key: k('policy.problem.genesis'), params: {} });
  } else {
    const pinned = pinnedGenesis(session.org);
    if (pinned && pinned !== genesis.hash) problems.push({ key: k('policy.problem.pin'), params: { pinned } });
    pinGenesis(session.org, genesis.hash);
  }
  const current = versions.find((v) => org && v.version === org.policyVersion) || null;
  if (!current) problems.push({ key: k('policy.problem.noCurrent'), params: {} });
  else if (current.hash !== org.policyHash) problems.push({ key: k('policy.problem.currentHash'), params: { version: current.version } });
  const now = nowSeconds();
  const pending = versions.filter((v) => current && v.version > current.version && v.policy.effectiveFrom > now);
  return { org, versions, current, pending, problems, loadedAt: now };
}

/** The policy versions (cached for a few seconds; `force` fetches again). */
export function loadPolicies({ force = false } = {}) {
  if (!force && cache && cache.org === session.org && Date.now() - cache.at < TTL_MS) return cache.promise;
  const promise = fetchAll();
  cache = { org: session.org, at: Date.now(), promise };
  promise.catch(() => {
    if (cache && cache.promise === promise) cache = null;
  });
  return promise;
}

// MARK: - Lookups in a policy document

export function assetOf(policy, id) {
  return (policy && policy.assets ? policy.assets : []).find((a) => a.id === id) || null;
}

export function walletOf(policy, id) {
  return (policy && policy.wallets ? policy.wallets : []).find((w) => w.id === id) || null;
}

export function memberOf(policy, id) {
  return (policy && policy.members ? policy.members : []).find((m) => m.id === id) || null;
}

export function ruleFor(policy, wallet, asset) {
  const rules = policy && policy.rules && policy.rules.transfers ? policy.rules.transfers : [];
  return rules.find((r) => r.wallet === wallet && r.asset === asset) || null;
}

export function entriesFor(policy, asset) {
  return (policy && policy.addressBook ? policy.addressBook : []).filter((e) => e.asset === asset);
}

/** The number of approvals a transfer of `amount` base units needs, or null above the last tier. */
export function approvalsNeeded(rule, amount) {
  const a = BigInt(amount);
  for (const tier of rule.tiers || []) {
    if (a <= BigInt(tier.upTo)) return tier.approvals;
  }
  return null;
}
