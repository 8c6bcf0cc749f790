/** `npm run bench`: the benchmarks arrive with the live-tracking and hardening work. */
console.log('no benchmarks yet');
