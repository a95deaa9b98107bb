// Live training (vae-atlas explore RUN --follow): while the server follows the run, the page
// asks it once a second which epoch it shows; when newer weights have been swapped in, the run
// is reloaded in place (map, decoder, selections placed and described again, the view kept)
// and the chip on the map says which epoch is shown and the newest held-out numbers. The server
// turns each new map onto the one it replaces (a Procrustes fit of the same points: shift, turn,
// mirror, scale), so the picture does not spin or flip between epochs; the map's `frame` says
// how, and lifting a map position back to a code goes through it (decoding.js).

import { getJSON } from "./api.js";
import { status } from "./status.js";
import { runPath, state } from "./store.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
let watching = null; // the run being followed; another run's loop ends itself

function describe(f) {
  const m = f.metrics || {};
  const key = ["val_neg_elbo", "test_neg_elbo", "val_recon", "test_recon"].find((k) => m[k] != null);
  const label = { val_neg_elbo: "−ELBO (validation)", test_neg_elbo: "−ELBO (test)", val_recon: "recon. (validation)", test_recon: "recon. (test)" }[key];
  const number = key ? ` · ${label} ${m[key].toFixed(2)}` : "";
  const problem = f.error ? ` · newest files unreadable: ${f.error}` : "";
  const turned = state.map && state.map.frame ? " · map aligned to the previous epoch's" : "";
  return `epoch ${f.epoch} of ${f.epochs ?? "?"} · ${f.status ?? "?"}${number}${turned}${problem}`;
}

// reload(): takes the run's newest weights into the page (app.js)
export async function followRun(reload) {
  const run = state.run;
  watching = run.id;
  for (;;) {
    let f = null;
    try { f = await getJSON(runPath("/follow", run)); } catch (_) { /* the server went away */ }
    if (watching !== run.id || state.run.id !== run.id) return;
    $("follow-chip").hidden = !(f && f.following);
    if (!f || !f.following) return;
    let current = f.version === state.run.version;
    if (!current) {
      try {
        await reload();
        current = true;
      } catch (err) { status(`could not load epoch ${f.epoch}: ${err.message}`, true); }
    }
    // the chip names the epoch the page shows: it waits for the reload to succeed
    if (current) $("follow-chip").textContent = describe(f);
    await sleep(POLL_MS);
  }
}
