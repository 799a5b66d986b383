import { init, numpy as np, jit, grad, defaultDevice } from "@jax-js/jax";
const devs = await init("wasm");
console.log("devices", devs);
defaultDevice("wasm");
const f = jit((x: np.Array) => np.sum(np.multiply(x.ref, x)));
const x = np.array([1, 2, 3]);
console.log(await f(x.ref).data());
const g = grad((x: np.Array) => np.sum(np.multiply(x.ref, x)));
console.log(await g(x).data());
