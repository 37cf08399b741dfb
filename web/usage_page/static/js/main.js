// The usage page: the seed's "Usage Analytics" page on the public GraphQL API only.
// Flow: token (sessionStorage) -> Viewer (role) -> FilterOptions -> UsagePage + RequestLogs,
// then LiveCards and LiveLogs subscriptions keep it current without a reload.
import { ApiError, download, query, subscribe } from "./api.js";
import { shareBar, trendChart } from "./chart.js";
import { el, fill, show } from "./dom.js";
import {
  count, dateTime, milliseconds, money, nanos, percent, tokenEquivalents, zonedInstant,
} from "./format.js";

const TOKEN_KEY = "aize.usage.token";
// How soon after a pushed log the trend, breakdowns, latency and errors are asked again.
const ANALYSIS_REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  viewer: null,
  team: false,
  cursor: null,
  shownLogs: new Set(),
  totalCount: 0,
  live: null,
  analysisTimer: null,
  trend: null,
};

// ---- filters ---------------------------------------------------------------------------

/** The UsageFilter of the filter bar (the same for cards, charts, logs and exports). */
function currentFilter() {
  const filter = {};
  if ($("period").value === "CUSTOM") {
    // Wall-clock times of the organization's zone, as every figure of the page is (not the
    // browser's): sent as exact instants with that zone's offset. A value that is not a
    // wall-clock time goes as typed, for the API to say what is wrong with it.
    const zone = state.viewer.organization.timezone;
    for (const [id, bound] of [["range-from", "from"], ["range-to", "to"]]) {
      const typed = $(id).value;
      if (typed) filter[bound] = zonedInstant(typed, zone) ?? typed;
    }
  } else {
    filter.period = $("period").value;
  }
  if ($("status").value) filter.statusClasses = [$("status").value];
  if ($("model").value) filter.models = [$("model").value];
  if ($("api-key").value) filter.apiKeyIds = [$("api-key").value];
  if (state.team && $("user").value) filter.memberIds = [$("user").value];
  if ($("only-mine").checked) filter.onlyMine = true;
  return filter;
}

/** The same filter as export query parameters (docs/readme/exports.md). */
function exportParams(filter) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) {
    params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  return params;
}

function options(select, items, first) {
  select.replaceChildren(el("option", { value: "", text: first }), ...items.map(
    ([value, text]) => el("option", { value, text }),
  ));
}

async function loadFilterOptions() {
  const data = await query(state.token, "FilterOptions", { team: state.team });
  const organization = data.organization;
  options($("api-key"), organization.apiKeys.map((k) => [k.id, `${k.label} (${k.status.toLowerCase()})`]), "All API keys");
  const models = state.team
    ? organization.everything.breakdown.map((g) => g.model)
    : data.viewer.member.usage.modelsUsed;
  options($("model"), [...models].sort().map((m) => [m, m]), "All models");
  if (state.team) options($("user"), organization.members.map((m) => [m.id, m.name]), "All members");
}

// ---- cards -----------------------------------------------------------------------------

function renderTotals(t) {
  show("v-requests", count(t.requests), t.requests);
  show("v-successful", count(t.successful), t.successful);
  show("v-failed", count(t.failed), t.failed);
  show("v-total-tokens", count(t.totalTokens), t.totalTokens);
  show("v-input-tokens", count(t.inputTokens), t.inputTokens);
  show("v-output-tokens", count(t.outputTokens), t.outputTokens);
  const guide = tokenEquivalents(t.totalTokens);
  show("v-words", guide.words, guide.words);
  show("v-characters", guide.characters, guide.characters);
  show("v-pages", guide.pages, guide.pages);
  show("v-customer-cost", money(t.customerCost), t.customerCost);
  show("v-provider-cost", money(t.providerCost), t.providerCost);
  show("v-markup", money(t.markup), t.markup);
  show("v-fixed-fees", money(t.fixedFees), t.fixedFees);
  show("v-average-cost", money(t.averageCostPerRequest), t.averageCostPerRequest);
  show("v-success-rate", percent(t.successRate), t.successRate);
  show("v-client-errors", count(t.clientErrors), t.clientErrors);
  show("v-server-errors", count(t.serverErrors), t.serverErrors);
}

function renderSpend(s) {
  show("v-spend", money(s.spend), s.spend);
  show("v-budget", s.budget === null ? "none set" : money(s.budget), s.budget);
  show("v-spend-status", s.status ?? "no budget", s.status);
  const bar = $("spend-bar");
  const used = s.percentUsed ?? "0";
  // Bar length only: a percent, not money.
  const width = Math.min(Number.parseFloat(used), 100);
  $("spend-fill").style.width = `${width}%`;
  bar.className = `spend-bar ${(s.status ?? "none").toLowerCase()}`;
  bar.setAttribute("aria-valuenow", String(width));
  bar.setAttribute("aria-valuetext", `${percent(used)} of the budget (${s.status ?? "no budget"})`);
  bar.dataset.value = used;
  if (s.billingPeriod) {
    const zone = state.viewer.organization.timezone;
    show("v-period", `period ${dateTime(s.billingPeriod.start, zone).slice(0, 10)} – ${dateTime(s.billingPeriod.end, zone).slice(0, 10)}`, s.billingPeriod.start);
  }
}

function renderWallet(w) {
  if (!w) return;
  show("v-balance", money(w.balance), w.balance);
  show("v-threshold", money(w.lowBalanceThreshold), w.lowBalanceThreshold);
  show("v-low", w.isLow ? "LOW: refill the wallet" : "", w.isLow);
}

function renderLatency(l) {
  show("v-latency-average", milliseconds(l.averageMs), l.averageMs);
  show("v-p50", milliseconds(l.p50Ms), l.p50Ms);
  show("v-p95", milliseconds(l.p95Ms), l.p95Ms);
  show("v-p99", milliseconds(l.p99Ms), l.p99Ms);
}

// ---- tables ----------------------------------------------------------------------------

function table(id, headings, rows, empty) {
  const head = el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col", text: h }))));
  const body = el("tbody", {}, rows.length
    ? rows
    : el("tr", {}, el("td", { colspan: headings.length, text: empty })));
  fill(id, head, body);
}

function renderBreakdown(id, groups, name) {
  const whole = groups.reduce((sum, g) => sum + nanos(g.totals.customerCost), 0n);
  const rows = groups.map((g) => el("tr", { dataset: { name: name(g), cost: g.totals.customerCost } },
    el("th", { scope: "row", text: name(g) }),
    el("td", { class: "num", text: count(g.totals.requests) }),
    el("td", { class: "num", text: count(g.totals.totalTokens) }),
    el("td", { class: "num", text: money(g.totals.customerCost) }),
    el("td", { class: "num", text: percent(g.totals.errorRate) }),
    el("td", {}, shareBar(nanos(g.totals.customerCost), whole)),
  ));
  table(id, ["Name", "Requests", "Tokens", "Cost", "Errors", "Share of cost"], rows, "No requests");
}

function renderErrors(errors) {
  const zone = state.viewer.organization.timezone;
  table("errors-by-status", ["Status", "Count", "First seen", "Last seen"],
    errors.byStatusCode.map((g) => el("tr", {},
      el("th", { scope: "row", text: String(g.statusCode) }),
      el("td", { class: "num", text: count(g.count) }),
      el("td", { text: dateTime(g.firstSeen, zone) }),
      el("td", { text: dateTime(g.lastSeen, zone) }),
    )), "No errors");
  table("errors-by-pattern", ["Message", "Status", "Count"],
    errors.byPattern.map((g) => el("tr", {},
      el("th", { scope: "row", text: g.sampleMessage ?? g.pattern }),
      el("td", { text: g.statusCodes.join(", ") }),
      el("td", { class: "num", text: count(g.count) }),
    )), "No errors");
}

function drawTrend() {
  if (state.trend) fill("trend", trendChart(state.trend, $("metric").value, state.viewer.organization.timezone));
}

function renderUsage(organization) {
  const usage = organization.usage;
  const zone = usage.timezone;
  const range = $("range-text");
  range.textContent = `${dateTime(usage.from, zone)} – ${dateTime(usage.to, zone)} (${zone})`;
  range.dataset.from = usage.from;
  range.dataset.to = usage.to;
  renderTotals(usage.totals);
  renderSpend(organization.currentSpend);
  renderWallet(organization.wallet);
  renderLatency(usage.latency);
  renderErrors(usage.errors);
  state.trend = usage.trend.columns;
  drawTrend();
  if (state.team) {
    renderBreakdown("by-model", usage.byModel, (g) => g.model);
    renderBreakdown("by-api-key", usage.byApiKey, (g) => g.apiKey?.label ?? "(unknown key)");
    renderBreakdown("by-member", usage.byMember, (g) => (g.hasMember ? g.member?.name ?? "(removed)" : "Team keys"));
  }
}

// ---- logs ------------------------------------------------------------------------------

function logRows(log) {
  const zone = state.viewer.organization.timezone;
  const detailsId = `details-${log.id}`;
  const toggle = el("button", {
    type: "button", class: "details-toggle", "aria-expanded": "false", "aria-controls": detailsId,
    "aria-label": `Details of request ${log.requestId}`, text: "Details",
  });
  const status = log.statusCode >= 500 ? "server" : log.statusCode >= 400 ? "client" : "ok";
  const row = el("tr", { dataset: { requestId: log.requestId, cost: log.customerCost } },
    el("td", { text: dateTime(log.timestamp, zone) }),
    el("td", { text: log.apiKey?.label ?? "—" }),
    el("td", { class: "user", text: log.member?.name ?? "—" }),
    el("td", { text: log.model }),
    el("td", { class: "num", text: `${count(log.inputTokens)} / ${count(log.outputTokens)}` }),
    el("td", { class: "num", text: money(log.customerCost) }),
    el("td", { class: "num", text: milliseconds(log.latencyMs) }),
    el("td", {}, el("span", { class: `status ${status}`, text: String(log.statusCode) })),
    el("td", {}, toggle),
  );
  const facts = [
    ["Request ID", log.requestId],
    ["Provider model", log.providerModel],
    ["Endpoint", log.endpoint],
    ["Total tokens", count(log.totalTokens)],
    ["Provider cost", money(log.providerCost)],
    ["Markup", money(log.markup)],
    ["Fixed fee", money(log.fixedFee)],
    ["Customer cost", money(log.customerCost)],
    ["Error message", log.errorMessage ?? "—"],
  ];
  const details = el("tr", { id: detailsId, class: "details", hidden: true },
    el("td", { colspan: 9 },
      el("dl", {}, facts.map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
      el("p", { class: "detail", text: "Metadata" }),
      el("pre", { class: "metadata", text: JSON.stringify(log.metadata ?? {}, null, 2) }),
    ));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    details.hidden = !open;
  });
  return [row, details];
}

function renderLogCount() {
  show("logs-count", `${count(state.totalCount)} matching`, state.totalCount);
}

function addLogs(logs, { atTop }) {
  const fresh = logs.filter((log) => !state.shownLogs.has(log.id));
  for (const log of fresh) state.shownLogs.add(log.id);
  const rows = fresh.flatMap(logRows);
  if (atTop) $("log-rows").prepend(...rows);
  else $("log-rows").append(...rows);
  return fresh.length;
}

async function loadLogs(filter, { more }) {
  const data = await query(state.token, "RequestLogs", { filter, after: more ? state.cursor : null });
  const connection = data.organization.requestLogs;
  if (!more) {
    state.shownLogs.clear();
    $("log-rows").replaceChildren();
  }
  addLogs(connection.edges.map((e) => e.node), { atTop: false });
  state.totalCount = connection.totalCount;
  renderLogCount();
  state.cursor = connection.pageInfo.endCursor;
  $("load-more").hidden = !connection.pageInfo.hasNextPage;
}

// ---- live ------------------------------------------------------------------------------

/**
 * Subscribe to new logs, then (once that stream is open) to the cards: the body's
 * `data-live` turns "on" with the cards' first message, when both streams are running.
 */
async function startLive(filter) {
  state.live?.abort();
  clearTimeout(state.analysisTimer);
  state.analysisTimer = null;
  const live = new AbortController();
  state.live = live;
  document.body.dataset.live = "off";
  const onError = (error) => problem(`Live updates stopped: ${error.message}`);
  await subscribe(state.token, "LiveLogs", { filter }, {
    signal: live.signal,
    onError,
    onData: (data) => {
      const added = addLogs(data.requestLogs.logs, { atTop: true });
      if (added === 0) return;
      state.totalCount += added;
      renderLogCount();
      // At most one refresh per interval, however fast logs arrive (a throttle, not a
      // debounce: a steady stream would postpone a debounced one for ever).
      if (state.analysisTimer !== null) return;
      state.analysisTimer = setTimeout(() => {
        state.analysisTimer = null;
        if (!live.signal.aborted) refreshUsage(filter).catch(report);
      }, ANALYSIS_REFRESH_MS);
    },
  });
  if (live.signal.aborted) return;
  subscribe(state.token, "LiveCards", { filter }, {
    signal: live.signal,
    onError,
    onData: (data) => {
      renderTotals(data.usage.totals);
      renderSpend(data.usage.currentSpend);
      const zone = state.viewer.organization.timezone;
      $("live-state").textContent = `· live, updated ${dateTime(data.usage.computedAt, zone)}`;
      if (!live.signal.aborted) document.body.dataset.live = "on";
    },
  });
}

// ---- page ------------------------------------------------------------------------------

function problem(message) {
  $("problem").textContent = message;
  $("problem").hidden = !message;
}

function report(error) {
  if (error instanceof ApiError && error.code === "UNAUTHENTICATED") {
    sessionStorage.removeItem(TOKEN_KEY);
    state.live?.abort();
    $("sign-in").hidden = false;
    $("page").hidden = true;
    $("who").hidden = true;
  }
  problem(error.message);
  document.body.dataset.state = "failed";
}

async function refreshUsage(filter) {
  const data = await query(state.token, "UsagePage", {
    filter, granularity: $("granularity").value, team: state.team,
  });
  renderUsage(data.organization);
}

async function refresh() {
  document.body.dataset.state = "loading";
  problem("");
  const filter = currentFilter();
  await Promise.all([refreshUsage(filter), loadLogs(filter, { more: false })]);
  startLive(filter).catch(report);
  document.body.dataset.state = "ready";
}

async function open(token) {
  state.token = token;
  const { viewer } = await query(token, "Viewer");
  state.viewer = viewer;
  state.team = viewer.role === "ADMIN" || viewer.role === "OWNER";
  for (const node of document.querySelectorAll("[data-team]")) {
    // A Member's page has no team controls at all, not hidden ones.
    if (state.team) node.hidden = false;
    else node.remove();
  }
  $("who-text").textContent = `${viewer.member?.name ?? "Service token"} · ${viewer.role ?? "no role"} · ${viewer.organization.name}`;
  $("range-zone").textContent = viewer.organization.timezone;
  $("who").hidden = false;
  $("sign-in").hidden = true;
  $("page").hidden = false;
  await loadFilterOptions();
  await refresh();
}

function signOut() {
  state.live?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  // The role's controls may have been removed: start from a fresh page.
  window.location.reload();
}

function wire() {
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    open(token).catch(report);
  });
  $("sign-out").addEventListener("click", signOut);
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh().catch(report);
  });
  $("period").addEventListener("change", () => {
    $("custom-range").hidden = $("period").value !== "CUSTOM";
  });
  $("clear-filters").addEventListener("click", () => {
    $("filters").reset();
    $("custom-range").hidden = true;
    refresh().catch(report);
  });
  $("granularity").addEventListener("change", () => {
    document.body.dataset.state = "loading";
    refreshUsage(currentFilter()).then(() => { document.body.dataset.state = "ready"; }, report);
  });
  $("metric").addEventListener("change", drawTrend);
  $("load-more").addEventListener("click", () => {
    document.body.dataset.state = "loading";
    loadLogs(currentFilter(), { more: true }).then(() => { document.body.dataset.state = "ready"; }, report);
  });
  for (const [id, path] of [["export-csv", "/export/request-logs.csv"], ["export-json", "/export/request-logs.jsonl"]]) {
    $(id)?.addEventListener("click", () => download(state.token, path, exportParams(currentFilter())).catch(report));
  }
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) open(saved).catch(report);
else document.body.dataset.state = "signed-out";
