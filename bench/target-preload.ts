/**
 * The first import of bench/target.ts, so it runs before undici is loaded:
 * BENCH_UNDICI_NO_YIELD=1 loads undici without its two yields (bench/undici-no-yield.ts).
 */
import { installUndiciWithoutYields } from './undici-no-yield';

if (process.env.BENCH_UNDICI_NO_YIELD === '1') installUndiciWithoutYields();
