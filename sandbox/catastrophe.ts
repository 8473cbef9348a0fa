/**
 * isolated-vm calls this when V8 has lost control of an isolate (e.g. "Script failed to
 * terminate" after a huge Array#fill). Nothing in the process can be trusted then, and measured
 * here even process.exit() hangs: the worker kills itself, the host answers SANDBOX_CRASHED.
 */
export function onCatastrophicError(): void {
  process.kill(process.pid, "SIGKILL");
}
