import { benchEquivalence } from "./bench/equivalence.ts"; console.log(JSON.stringify(await benchEquivalence()));
