// Inputs and results of the secret rotations. Everything here may enter workflow history,
// so it carries fingerprints (first 12 hex of SHA-256) and key ids, never a secret.
import type { CheckResult } from './types';

/** Integrations may need days of checking in dual-secret mode (one runbook allows a week). */
export const DEFAULT_ROTATION_GATE_TIMEOUT_SECONDS = 7 * 24 * 3600;

export interface RotateApiKeySecretInput {
  deployment: string;
  /** Per gate (`verify-dual-secret`, `commit-rotation`); default a week each. */
  gateTimeoutSeconds?: Partial<Record<string, number>>;
}

/** The two secrets of a rotation, by fingerprint: the one it replaces and the one it brings. */
export interface ApiKeySecretPair {
  previousFp: string;
  currentFp: string;
}

export interface BeginApiKeyRotationResult extends ApiKeySecretPair {
  /** The env file was already in dual-secret mode: this step's own retry, or an unfinished
   * rotation carried on. */
  resumed: boolean;
}

export interface RotateApiKeySecretResult {
  outcome: 'rotated' | 'rejected';
  /** How the deployment is left: only the new secret, back on the old one, or accepting both. */
  state: 'new-secret-only' | 'rolled-back' | 'dual-secret';
  previousFp: string;
  newFp: string;
  reason?: string;
  /** What to do next, when the rotation stopped half-way on purpose. */
  next?: string;
  checks: CheckResult[];
}

export interface RotateSigningKeyInput {
  deployment: string;
}

export interface SigningKeyRotation {
  oldKeyId: string;
  newKeyId: string;
  /** Where the old public key was kept. */
  keyring: string;
  retiredAt: string;
}

export interface RotateSigningKeyResult extends SigningKeyRotation {
  outcome: 'rotated';
  checks: CheckResult[];
}
