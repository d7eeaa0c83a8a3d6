// The watch page: asks the sandbox once a second which region answers the stack's
// /hello through its custom domain, and shows it live. Everything comes from the
// same-origin JSON endpoints under /_sandbox/api/ (the secret stays server-side).
"use strict";

(function () {
  const POLL_MS = 1000;
  const STACKS_RETRY_MS = 2000;
  const STACKS_REFRESH_MS = 10000;
  const STRIP_BARS = 120; // two minutes at one answer a second
  const LOG_ROWS = 300;
  const PALETTE = ["#2563eb", "#ea580c", "#7c3aed", "#0d9488", "#be185d"];

  // Survives as long as the page does: a reload makes a new one (tests check this).
  const watch = (window.failoverWatch = {
    loadId: Math.random().toString(36).slice(2),
    loadedAt: new Date().toISOString(),
    polls: 0,
    region: null,
    switches: [],
    stack: null,
  });

  const $ = (id) => document.getElementById(id);
  const colours = new Map();
  let stacks = [];
  let lastRegion = null;
  let failingSince = null; // time of the first failed answer of the current run of them
  let polling = false; // one probe loop at most
  let stacksTimer = null;
  let outages = new Map(); // region -> mode, from /_sandbox/outage

  function colourOf(region) {
    if (!region) return "#94a3b8";
    if (!colours.has(region)) colours.set(region, PALETTE[colours.size % PALETTE.length]);
    return colours.get(region);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clock(iso) {
    const d = iso ? new Date(iso) : new Date();
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(15000) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || body.message || `HTTP ${response.status}`);
    return body;
  }

  // -- notices: say what to run when there is nothing to watch ---------------

  function notice(title, paragraphs) {
    $("notice").hidden = !title;
    $("notice-title").textContent = title || "";
    const body = $("notice-body");
    body.replaceChildren();
    for (const part of paragraphs || []) {
      body.appendChild(part.code ? el("pre", null, part.code) : el("p", null, part.text));
    }
  }

  function exports() {
    const endpoint = window.location.origin.replace("localhost", "127.0.0.1");
    return `export AWS_ENDPOINT_URL=${endpoint}\nexport AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing`;
  }

  function noStackNotice() {
    notice("No stack deployed in this sandbox yet", [
      { text: "In another terminal, point the tool at this sandbox and deploy a stack with a domain:" },
      {
        code:
          `${exports()}\n` +
          "aws route53 create-hosted-zone --name example.com --caller-reference $(date +%s)\n" +
          "failover up        # failover.yaml with a domain: section (name: hello.example.com)",
      },
      { text: "This page finds it by itself within a few seconds." },
    ]);
  }

  function problemNotice(stack, problem) {
    if (problem === "no-domain") {
      notice(`Stack “${stack}” has no custom domain`, [
        { text: "Without a domain nothing routes between regions. Add one to failover.yaml, make sure its hosted zone exists, and run up again:" },
        {
          code:
            "domain:\n  name: hello.example.com\n  hosted_zone: example.com\n  base_path: v1\n\n" +
            "aws route53 create-hosted-zone --name example.com --caller-reference $(date +%s)\n" +
            "failover up",
        },
      ]);
    } else if (problem === "no-secret") {
      notice(`Stack “${stack}” has no functions with a health-checker secret`, [
        { text: "Its functions are missing or were deployed by hand. Run:" },
        { code: "failover up" },
      ]);
    } else if (problem === "no-stack") {
      notice(`Stack “${stack}” is gone`, [{ text: "It was torn down. Looking for stacks again…" }]);
    } else {
      notice(null);
    }
  }

  // -- stacks -----------------------------------------------------------------

  // Asked again now and then: a domain added or a stack deployed after the page opened.
  function scheduleStacks(ms) {
    clearTimeout(stacksTimer);
    stacksTimer = setTimeout(loadStacks, ms);
  }

  async function loadStacks() {
    let answer;
    try {
      answer = await getJson("api/stacks");
    } catch (error) {
      if (!watch.stack) offline(error); // while watching, the probes say so themselves
      scheduleStacks(STACKS_RETRY_MS);
      return;
    }
    const sandbox = answer.sandbox || {};
    $("sandbox-info").textContent = `${sandbox.endpoint || ""} · time ×${sandbox.time_scale ?? 1}`;
    stacks = answer.stacks || [];
    if (!stacks.length) {
      watch.stack = null;
      document.body.dataset.state = "no-stack";
      noStackNotice();
      scheduleStacks(STACKS_RETRY_MS);
      return;
    }
    const wanted = new URLSearchParams(window.location.search).get("stack");
    const pick =
      stacks.find((s) => s.name === (watch.stack || wanted)) ||
      stacks.find((s) => s.domain) || // the one that can fail over
      stacks[0];
    const select = $("stack-select");
    select.replaceChildren(...stacks.map((s) => el("option", null, s.name)));
    select.value = pick.name;
    $("stack-picker").hidden = stacks.length < 2;
    chooseStack(pick);
    scheduleStacks(STACKS_REFRESH_MS);
  }

  function chooseStack(stack) {
    if (watch.stack !== stack.name) {
      lastRegion = null;
      failingSince = null;
      watch.region = null;
      $("log").replaceChildren();
      $("strip").replaceChildren();
      $("last-switch").hidden = true;
      $("failing").hidden = true;
      notice(null);
      document.body.dataset.state = "watching";
    }
    watch.stack = stack.name;
    stack.regions.forEach(colourOf);
    $("hello-url").textContent = stack.hello_url ? `· ${stack.hello_url}` : "";
    drawLegend(stack);
    if (!polling) {
      polling = true;
      poll();
    }
  }

  $("stack-select").addEventListener("change", (event) => {
    const stack = stacks.find((s) => s.name === event.target.value);
    if (stack) chooseStack(stack);
  });

  function current() {
    return stacks.find((s) => s.name === watch.stack);
  }

  // -- polling ------------------------------------------------------------------

  async function poll() {
    const stack = current();
    if (!stack) {
      polling = false;
      return;
    }
    const started = performance.now();
    try {
      const answer = await getJson(`api/probe?stack=${encodeURIComponent(stack.name)}`);
      if (watch.stack === stack.name) {
        // (else another stack was picked meanwhile: this answer is stale)
        watch.polls += 1;
        if (answer.problem === "no-stack") {
          problemNotice(stack.name, "no-stack");
          watch.stack = null;
          polling = false;
          scheduleStacks(STACKS_RETRY_MS);
          return;
        }
        show(current() || stack, answer);
      }
    } catch (error) {
      offline(error);
    }
    // One second between the starts of two probes, never two at once.
    setTimeout(poll, Math.max(100, POLL_MS - (performance.now() - started)));
  }

  function offline(error) {
    document.body.dataset.state = "offline";
    notice("The sandbox is not answering", [
      { text: `${error.message}. Is \`failover sandbox\` still running? Retrying…` },
    ]);
  }

  function show(stack, answer) {
    problemNotice(stack.name, answer.problem);
    document.body.dataset.state = answer.problem || "watching";
    drawRegions(stack, answer);
    if (answer.problem) {
      setServing(null, null, answer.problem === "no-domain" ? "no domain to call" : "nothing to call", null);
      return;
    }
    const ok = answer.status >= 200 && answer.status < 300;
    const region = answer.region || null;
    setServing(region, answer.status, answer.message, answer);
    if (region && lastRegion && region !== lastRegion) {
      recordSwitch(lastRegion, region, answer.time, failingSince);
    }
    if (region) lastRegion = region;
    failingSince = ok ? null : failingSince || answer.time;
    showFailing(answer.time);
    showSwitchAge();
    addBar(region, ok);
    addLogRow(answer, ok);
  }

  function setServing(region, status, message, answer) {
    const hero = $("hero");
    watch.region = region;
    document.body.dataset.region = region || "";
    hero.style.setProperty("--region", colourOf(region));
    hero.classList.toggle("failing", Boolean(status) && (status < 200 || status >= 300));
    const big = $("serving-region");
    big.textContent = region || (answer ? "no region answered" : "—");
    big.classList.toggle("none", !region);
    const badge = $("answer-status");
    badge.textContent = status ?? "";
    badge.className = `status ${status >= 200 && status < 300 ? "ok" : status ? "bad" : ""}`;
    $("answer-message").textContent = message || "";
    $("answer-latency").textContent = answer ? `${answer.latency_ms} ms` : "";
    $("answer-time").textContent = answer ? `at ${clock(answer.time)}` : "";
    $("poll-count").textContent = `${watch.polls} probes since the page loaded`;
  }

  function seconds(fromIso, toIso) {
    return ((new Date(toIso) - new Date(fromIso)) / 1000).toFixed(1);
  }

  function recordSwitch(from, to, time, failedSince) {
    const entry = { from, to, time, failedSince };
    watch.switches.push(entry);
    const outage = failedSince ? `${seconds(failedSince, time)} s after the first failed answer` : "";
    const banner = $("last-switch");
    banner.hidden = false;
    banner.dataset.from = from;
    banner.dataset.to = to;
    banner.dataset.time = time;
    banner.dataset.outage = outage;
    banner.replaceChildren(
      el("strong", null, `⇄ switched ${from} → ${to}`),
      document.createTextNode(` at ${clock(time)}`),
      el("span", "detail", ""),
    );
    showSwitchAge();
    banner.classList.remove("fresh");
    void banner.offsetWidth; // restart the flash animation
    banner.classList.add("fresh");
    const row = el("li", "switch");
    row.appendChild(el("span", "t", clock(time)));
    const why = outage ? `, ${outage}` : "";
    row.appendChild(document.createTextNode(`⇄ serving region switched from ${from} to ${to}${why}`));
    $("log").prepend(row);
    $("strip").dataset.pendingSwitch = "1";
  }

  function showFailing(now) {
    const banner = $("failing");
    banner.hidden = !failingSince;
    if (failingSince) {
      const wait = watch.region ? " · waiting for Route 53 to switch" : "";
      banner.textContent = `✕ failing for ${seconds(failingSince, now)} s${wait}`;
    }
  }

  function showSwitchAge() {
    const banner = $("last-switch");
    if (banner.hidden) return;
    const ago = Math.max(0, Math.round((Date.now() - new Date(banner.dataset.time)) / 1000));
    const parts = [banner.dataset.outage, `${ago} s ago`].filter(Boolean);
    banner.querySelector(".detail").textContent = ` · ${parts.join(" · ")}`;
  }

  function addBar(region, ok) {
    const strip = $("strip");
    const bar = el("i", ok ? "" : region ? "failed" : "none");
    bar.style.setProperty("--region", colourOf(region));
    bar.title = `${region || "no answer"}${ok ? "" : " (failed)"}`;
    if (strip.dataset.pendingSwitch) {
      bar.classList.add("switch");
      delete strip.dataset.pendingSwitch;
    }
    strip.appendChild(bar);
    while (strip.children.length > STRIP_BARS) strip.firstChild.remove();
  }

  function addLogRow(answer, ok) {
    const row = el("li");
    row.style.setProperty("--region", colourOf(answer.region));
    row.appendChild(el("span", "t", clock(answer.time)));
    row.appendChild(el("span", "r", answer.region || "—"));
    row.appendChild(el("span", `s ${ok ? "ok" : "bad"}`, answer.status ?? "—"));
    row.appendChild(el("span", "l", `${answer.latency_ms} ms`));
    row.appendChild(el("span", "m", answer.message || ""));
    const log = $("log");
    log.prepend(row);
    while (log.children.length > LOG_ROWS) log.lastChild.remove();
  }

  function drawLegend(stack) {
    const legend = $("legend");
    legend.replaceChildren();
    for (const region of stack.regions) {
      const item = el("span", null, region);
      item.style.setProperty("--region", colourOf(region));
      legend.appendChild(item);
    }
    legend.appendChild(el("span", "failed", "failed answer"));
  }

  function drawRegions(stack, answer) {
    const byRegion = new Map((answer.health || []).map((h) => [h.region, h]));
    const cards = stack.regions.map((region) => {
      const health = byRegion.get(region);
      const card = el("div", "region-card");
      card.dataset.region = region;
      card.style.setProperty("--region", colourOf(region));
      const serving = region === answer.region && !answer.problem;
      card.classList.toggle("serving-now", serving);
      if (serving) card.appendChild(el("span", "answering", "answering"));
      card.appendChild(el("div", "name", region));
      const role =
        stack.routing === "failover"
          ? region === stack.primary ? "primary" : "secondary"
          : stack.routing === "latency" ? "latency routing" : "no routing records";
      card.appendChild(el("div", "role", role));
      if (outages.has(region)) card.appendChild(el("div", "outage-flag", `outage: ${outages.get(region)}`));
      const line = el("div", "health");
      if (health) {
        // null: the health check could not be read this time (unknown, not unhealthy)
        const state = health.healthy === null ? "unknown" : health.healthy ? "healthy" : "unhealthy";
        const badge = el("span", `badge ${state}`, state === "unknown" ? "unread" : state);
        card.dataset.health = state;
        line.appendChild(badge);
        line.appendChild(el("span", "dim", `${health.healthy_checkers}/${health.checkers} checkers`));
        const dots = el("span", "checkers");
        for (let i = 0; i < health.checkers; i += 1) {
          dots.appendChild(el("i", i < health.healthy_checkers ? "up" : ""));
        }
        line.appendChild(dots);
      } else {
        line.appendChild(el("span", "badge unknown", "no health check"));
      }
      card.appendChild(line);
      if (health) card.appendChild(el("div", "check-id mono dim", `health check ${health.check_id}`));
      return card;
    });
    $("regions").replaceChildren(...cards);
  }

  // -- the outage switch: POST/DELETE /_sandbox/outage, the list polled -------

  const OUTAGE_POLL_MS = 2000;
  const EXTRA_REGIONS = ["us-east-1"]; // Route 53, CloudWatch, SNS live there

  async function outageCall(method, body) {
    const response = await fetch("/_sandbox/outage", {
      method,
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10000),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return answer;
  }

  function showOutages(answer) {
    outages = new Map(answer.outages.map((o) => [o.region, o.mode]));
    const items = answer.outages.map((o) => {
      const item = el("li", "outage-item");
      item.dataset.region = o.region;
      item.appendChild(el("span", "mono", `${o.region}: ${o.mode} since ${clock(o.since)}`));
      const end = el("button", "", "End");
      end.type = "button";
      end.addEventListener("click", () => changeOutage("DELETE", { region: o.region }));
      item.appendChild(end);
      return item;
    });
    $("outage-list").replaceChildren(...items);
    $("outage-state").textContent = items.length ? `${items.length} in outage` : "no outage";
    $("outage-end").disabled = items.length === 0;
    document.body.dataset.outage = items.length ? "on" : "off";
  }

  function fillOutageRegions() {
    const select = $("outage-region");
    const chosen = select.value;
    const stack = current();
    const regions = [...new Set([...(stack ? stack.regions : []), ...EXTRA_REGIONS])];
    select.replaceChildren(...regions.map((region) => el("option", "", region)));
    if (regions.includes(chosen)) select.value = chosen;
  }

  async function changeOutage(method, body) {
    $("outage-error").hidden = true;
    try {
      showOutages(await outageCall(method, body));
    } catch (error) {
      $("outage-error").textContent = `The outage switch said: ${error.message}`;
      $("outage-error").hidden = false;
    }
  }

  async function pollOutages() {
    fillOutageRegions();
    try {
      showOutages(await outageCall("GET"));
    } catch (error) {
      // The sandbox is down or busy: the /hello poll already says so.
    }
    setTimeout(pollOutages, OUTAGE_POLL_MS);
  }

  $("outage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    changeOutage("POST", { region: $("outage-region").value, mode: $("outage-mode").value });
  });
  $("outage-end").addEventListener("click", () => changeOutage("DELETE"));

  loadStacks();
  pollOutages();
})();
