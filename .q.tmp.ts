import { readQuantity, quantityEqual } from './pipeline/equivalence/units.ts';
import { answerOf } from './pipeline/equivalence/index.ts';
console.log(readQuantity('1.3 atm'), JSON.stringify(answerOf('1.3 atm')), JSON.stringify(answerOf('131.7225 kPa')));
