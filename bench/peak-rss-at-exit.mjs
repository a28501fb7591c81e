// Preloaded into a benchmarked child process (node --import): prints its peak resident set size
// (maxRSS, kept by the OS from the process start) on stderr as it exits.
process.on('exit', () => {
  process.stderr.write(`PEAK_RSS_BYTES ${process.resourceUsage().maxRSS * 1024}\n`);
});
