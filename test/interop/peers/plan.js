// Runs every case of a plan (see test/interop/fixtures.ts, `PLAN`) one after the other with the
// given cases, and collects what each observed, or the error it threw.
export async function runPlan(cases, url, plan) {
  const steps = {
    text: () => cases.text(url, plan.texts),
    binary: () => cases.binary(url, plan.sizes),
    order: () => cases.order(url, plan.order),
    ping: () => cases.ping(url, plan.ping),
    closeClient: () => cases.closeClient(url, ...plan.closeClient),
    closeServer: () => cases.closeServer(url, ...plan.closeServer),
    subprotocol: () => cases.subprotocol(url, plan.offers),
  };
  const results = {};
  for (const name of plan.cases ?? Object.keys(steps)) {
    try {
      results[name] = await steps[name]();
    } catch (error) {
      results[name] = { error: String(error && error.message ? error.message : error) };
    }
  }
  return results;
}
