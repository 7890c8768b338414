/** Scalar math shared by the ts kernels. */

const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * erf to float64 precision (relative error ~1e-16): float64 is the gradient-check dtype, so a
 * float32-grade fit is not enough. Below 2.5 the all-positive series
 * erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (2n+1)!! (no cancellation); above, erfc by its
 * continued fraction (modified Lentz), which converges quickly there.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (Number.isNaN(z)) return NaN;
  if (z >= 6) return Math.sign(x); // erfc(6) < 2.2e-17
  if (z < 2.5) {
    const x2 = 2 * z * z;
    let term = z;
    let sum = z;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
    }
    const r = 2 * INV_SQRT_PI * Math.exp(-z * z) * sum;
    return x < 0 ? -r : r;
  }
  // erfc(z) = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    d = z + a * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = z + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = (Math.exp(-z * z) * INV_SQRT_PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function softplus(x: number): number {
  return x > 20 ? x : x < -20 ? Math.exp(x) : Math.log1p(Math.exp(x));
}

/** Round half to even, like torch.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2));
}
export function geluGrad(x: number): number {
  return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}
export function geluTanhGrad(x: number): number {
  const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  const t = Math.tanh(u);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
}
export const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
