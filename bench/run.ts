// The benchmark suite lands with the DAL (issue 4) and the jobs (issue 5).
console.log('cutover bench: no benchmarks yet; they arrive with the dual-write DAL.')
