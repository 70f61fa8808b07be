// The review page: a curator's work queue at the scale of a real project (tens of thousands
// of rows), the row's context in both hierarchies, decisions, double-review reconciliation,
// bulk decisions with a preview and undo, and progress. Built with Preact + htm (vendored in
// ui.mjs, see vendor/README.md); no build step. Everything the page may do comes from the
// server: the row's allowed_actions, the project's allowed_actions, and /api/vocabulary for
// equivalences, statuses, actions, roles and methods in French and English.
import { html, render, useState, useEffect, useLayoutEffect, useRef } from "./ui.mjs";

const ROW = 28;            // px per queue row (the virtual list's unit)
const PAGE = 100;          // rows per queue request
const OVERSCAN = 12;       // rows rendered above and below the visible ones
const PREFETCH_MS = 30000; // a prefetched row older than this is read again

const TEXT = {
  fr: {
    "login": "Connexion", "login-help": "Collez le jeton que « concordance users add » vous a donné.",
    "sign-in": "Se connecter", "bad-token": "Jeton refusé.", "search-queue": "Chercher un code ou un libellé (sans accents)…",
    "all-status": "Tous les statuts", "all-scores": "Tous les scores", "all-methods": "Toutes les méthodes",
    "no-method": "sans candidat", "all-assignees": "Tous", "mine": "Ma file", "unassigned": "Non attribuées",
    "all-chapters": "Tous les chapitres", "flagged": "Signalées", "commented": "Commentées",
    "sort-code": "Tri : code", "sort-score-desc": "Tri : score ↓", "sort-score": "Tri : score ↑",
    "sort-frequency": "Tri : fréquence d'usage ↓", "sort-updated": "Tri : dernière modification ↓",
    "sort-useful": "Tri : le plus utile à décider",
    "rows": "lignes", "of": "sur", "within": "Sous-arbre : {code}", "clear": "retirer",
    "decision": "Décision", "candidates": "Candidats", "target": "Cible", "reason": "Raison", "history": "Historique",
    "none": "aucune", "no-map": "pas de correspondance", "pick": "choisir", "add": "ajouter", "remove": "retirer",
    "source-tree": "Source", "target-tree": "Cible", "children": "enfants", "siblings": "voisins",
    "more": "… et {n} de plus", "filter-subtree": "filtrer ce sous-arbre", "add-target": "ajouter comme cible",
    "answers": "Réponses à l'aveugle", "keep-answer": "retenir cette réponse", "reconcile-nomap": "arbitrer : pas de correspondance",
    "comment-title": "Commentaire", "comment-for": "{action} — raison :", "send": "Envoyer", "cancel": "Annuler", "close": "Fermer",
    "search-target": "Chercher une cible", "search-help": "↑ ↓ pour choisir, Entrée pour retenir, Échap pour fermer",
    "replace": "remplacer les cibles", "add-to": "ajouter aux cibles", "equivalence": "Équivalence",
    "bulk": "Décision en masse", "bulk-method": "Méthode", "bulk-threshold": "Score minimal",
    "bulk-precision": "ou précision attendue", "bulk-scope": "Portée", "bulk-all": "tout le projet",
    "bulk-within": "le sous-arbre filtré", "preview": "Prévisualiser", "confirm": "Confirmer",
    "bulk-preview": "{n} lignes seraient validées, {s} ignorées.", "bulk-done": "{n} lignes validées (lot {batch}).",
    "undo-batch": "Annuler ce lot", "batch-undone": "Lot annulé : {n} lignes rétablies.",
    "assign": "Attribuer", "assignee": "Curateur", "scope": "Portée", "this-row": "cette ligne",
    "this-chapter": "le chapitre de la ligne", "code-range": "plage de codes", "from": "de", "to": "à",
    "assigned": "{n} lignes attribuées à {who}.",
    "progress": "Avancement", "decided": "décidées", "accepted-share": "validées", "usage": "usage couvert",
    "curator": "Curateur", "authored": "rédigées", "accepted": "validées", "assigned-rows": "attribuées",
    "chapter": "Chapitre", "total": "total",
    "conflict": "Modifié entre-temps par {who} (version {v}) : rien n'a été écrasé. La ligne a été rechargée ; décidez à nouveau.",
    "not-allowed": "« {action} » n'est pas possible ici pour votre rôle ou dans ce statut.",
    "building": "Le projet « {name} » est en cours de construction (commencé à {at}) ; il apparaîtra ici dès qu'il sera prêt.",
    "assignee-label": "attribuée à {who}", "by": "par", "version": "version",
    "k-next": "suivante", "k-prev": "précédente", "k-pick": "choisir le candidat", "k-add": "ajouter le candidat",
    "k-equiv": "changer l'équivalence", "k-select": "cible suivante", "k-remove": "retirer la cible",
    "k-search": "chercher une cible", "k-queue": "chercher dans la file", "k-comment": "commenter",
    "k-undo": "annuler la dernière décision", "k-assign": "attribuer", "k-up": "cible : parent",
    "k-down": "cible : premier enfant", "k-sibling": "cible : voisin suivant / précédent", "k-plus": "ajouter la cible parcourue",
    "k-source-up": "ligne parente", "k-bulk": "décision en masse", "k-progress": "avancement",
    "footer": "Concordance — alignement de terminologies. Les décisions sont enregistrées avec leur auteur et leur version ; rien n'est jamais écrasé.",
    "role": "rôle", "empty": "Aucune ligne ne correspond à ces filtres.", "same-reason": "idem",
  },
  en: {
    "login": "Sign in", "login-help": "Paste the token that “concordance users add” gave you.",
    "sign-in": "Sign in", "bad-token": "Token refused.", "search-queue": "Search a code or a label (accents ignored)…",
    "all-status": "All statuses", "all-scores": "All scores", "all-methods": "All methods",
    "no-method": "no candidate", "all-assignees": "Everyone", "mine": "My queue", "unassigned": "Unassigned",
    "all-chapters": "All chapters", "flagged": "Flagged", "commented": "Commented",
    "sort-code": "Sort: code", "sort-score-desc": "Sort: score ↓", "sort-score": "Sort: score ↑",
    "sort-frequency": "Sort: usage frequency ↓", "sort-updated": "Sort: last change ↓",
    "sort-useful": "Sort: most useful to decide next",
    "rows": "rows", "of": "of", "within": "Subtree: {code}", "clear": "clear",
    "decision": "Decision", "candidates": "Candidates", "target": "Target", "reason": "Reason", "history": "History",
    "none": "none", "no-map": "no map", "pick": "pick", "add": "add", "remove": "remove",
    "source-tree": "Source", "target-tree": "Target", "children": "children", "siblings": "siblings",
    "more": "… and {n} more", "filter-subtree": "filter this subtree", "add-target": "add as target",
    "answers": "Blind answers", "keep-answer": "keep this answer", "reconcile-nomap": "reconcile: no map",
    "comment-title": "Comment", "comment-for": "{action} — reason:", "send": "Send", "cancel": "Cancel", "close": "Close",
    "search-target": "Search a target", "search-help": "↑ ↓ to choose, Enter to keep, Esc to close",
    "replace": "replace the targets", "add-to": "add to the targets", "equivalence": "Equivalence",
    "bulk": "Bulk decision", "bulk-method": "Method", "bulk-threshold": "Minimum score",
    "bulk-precision": "or expected precision", "bulk-scope": "Scope", "bulk-all": "the whole project",
    "bulk-within": "the filtered subtree", "preview": "Preview", "confirm": "Confirm",
    "bulk-preview": "{n} rows would be accepted, {s} skipped.", "bulk-done": "{n} rows accepted (batch {batch}).",
    "undo-batch": "Undo this batch", "batch-undone": "Batch undone: {n} rows restored.",
    "assign": "Assign", "assignee": "Curator", "scope": "Scope", "this-row": "this row",
    "this-chapter": "the row's chapter", "code-range": "code range", "from": "from", "to": "to",
    "assigned": "{n} rows assigned to {who}.",
    "progress": "Progress", "decided": "decided", "accepted-share": "accepted", "usage": "usage covered",
    "curator": "Curator", "authored": "authored", "accepted": "accepted", "assigned-rows": "assigned",
    "chapter": "Chapter", "total": "total",
    "conflict": "Changed meanwhile by {who} (version {v}): nothing was overwritten. The row was reloaded; decide again.",
    "not-allowed": "“{action}” is not possible here for your role or in this status.",
    "building": "Project “{name}” is being built (started at {at}); it will appear here once ready.",
    "assignee-label": "assigned to {who}", "by": "by", "version": "version",
    "k-next": "next", "k-prev": "previous", "k-pick": "pick candidate", "k-add": "add candidate",
    "k-equiv": "change equivalence", "k-select": "next target", "k-remove": "remove target",
    "k-search": "search a target", "k-queue": "search the queue", "k-comment": "comment",
    "k-undo": "undo the last decision", "k-assign": "assign", "k-up": "target: parent",
    "k-down": "target: first child", "k-sibling": "target: next / previous sibling", "k-plus": "add the browsed target",
    "k-source-up": "parent row", "k-bulk": "bulk decision", "k-progress": "progress",
    "footer": "Concordance — terminology mapping. Decisions are recorded with their author and version; nothing is ever overwritten.",
    "role": "role", "empty": "No row matches these filters.", "same-reason": "same as above",
  },
};

const BANDS = { "": [null, null], "high": [0.9, null], "mid": [0.7, 0.9], "low": [0.5, 0.7], "poor": [null, 0.5] };
const BAND_LABELS = { "high": "≥ 0.9", "mid": "0.7 – 0.9", "low": "0.5 – 0.7", "poor": "< 0.5" };
const SORTS = [["source_code", "sort-code"], ["-score", "sort-score-desc"], ["score", "sort-score"],
               ["-frequency", "sort-frequency"], ["-updated_at", "sort-updated"],
               ["useful", "sort-useful"]];

// ---------------------------------------------------------------------------- state

const S = {
  lang: localStorage.getItem("lang") || "fr",
  token: sessionStorage.getItem("token"),
  vocab: null, projects: [], project: null, members: [], progress: null,
  filters: { q: "", status: "", band: "", method: "", assignee: "", flagged: false, commented: false, within: "", sort: "source_code" },
  total: 0, counts: {}, pages: new Map(), generation: 0,
  index: -1, detail: null, etag: null, history: [], sourceTree: null, targetTree: null, targetFocus: null,
  chosenIndex: 0, message: null, dialog: null, signedIn: false, loginError: false,
  prefetched: new Map(), lastBatch: null,
};
let redraw = () => {};
const set = (patch) => { Object.assign(S, patch); redraw(); };
const t = (key, values = {}) => (TEXT[S.lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const word = (list, code) => (S.vocab?.[list].find((item) => item.code === code)?.[S.lang]) ?? code;
const may = (action) => (S.detail?.allowed_actions || []).includes(action);
const mayInProject = (action) => (S.project?.allowed_actions || []).includes(action);

async function api(path, options = {}) {
  const headers = Object.assign({ "Authorization": `Bearer ${S.token}` }, options.headers || {});
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  return { status: response.status, body, etag: response.headers.get("ETag") };
}
const projectPath = (rest = "") => `/api/projects/${S.project.id}${rest}`;
const enc = encodeURIComponent;
function show(kind, text) { set({ message: { kind, text } }); }

// ---------------------------------------------------------------------------- sign in, projects

async function signIn(token) {
  S.token = token;
  const [answer, vocab] = await Promise.all([api("/api/projects"), api("/api/vocabulary")]);
  if (answer.status !== 200) { set({ loginError: true }); return; }
  sessionStorage.setItem("token", token);
  set({ signedIn: true, loginError: false, vocab: vocab.body, projects: answer.body });
  watchBuilding();
  const wanted = Number(new URLSearchParams(location.search).get("project"));
  const ready = answer.body.filter((p) => !p.building);
  const chosen = ready.find((p) => p.id === wanted) || ready[0];
  if (chosen) await openProject(chosen.id, wantedRow(), chosen);
}

function watchBuilding() {
  // A project still being built (make demo's large one) is announced; check every 15 s
  // and list it once it is ready, without reloading the page.
  if (!S.projects.some((p) => p.building)) return;
  setTimeout(async () => {
    const answer = await api("/api/projects");
    if (answer.status === 200) set({ projects: answer.body });
    const ready = S.projects.find((p) => !p.building);
    if (!S.project && ready) await openProject(ready.id, null, ready);
    watchBuilding();
  }, 15000);
}

function wantedRow() { return new URLSearchParams(location.hash.slice(1)).get("row"); }

async function openProject(id, rowCode = null, known = null) {
  // The project list already carries the project: the queue starts at once, members and
  // progress follow (first paint is the first row, not every panel).
  S.project = known || (await api(`/api/projects/${id}`)).body;
  S.members = []; S.progress = null;
  const url = new URL(location.href); url.searchParams.set("project", id); history.replaceState(null, "", url);
  await loadQueue(rowCode);
  const members = await api(`/api/projects/${id}/members`);
  if (members.status === 200) set({ members: members.body });
  loadProgress();
}

async function refreshProject() {
  const answer = await api(projectPath());
  if (answer.status === 200) set({ project: answer.body });
}

async function loadProgress() {
  const answer = await api(projectPath("/progress"));
  if (answer.status === 200) set({ progress: answer.body });
}

// ---------------------------------------------------------------------------- the queue

function queueParams() {
  const f = S.filters, params = new URLSearchParams({ sort: f.sort });
  if (f.q.trim()) params.set("q", f.q.trim());
  if (f.status) params.append("status", f.status);
  const [low, high] = BANDS[f.band];
  if (low !== null) params.set("min_score", low);
  if (high !== null) params.set("max_score", high);
  if (f.method) params.set("method", f.method);
  if (f.assignee === "__mine") params.set("mine", "true");
  else if (f.assignee === "__none") params.set("unassigned", "true");
  else if (f.assignee) params.set("assignee", f.assignee);
  if (f.flagged) params.set("flagged", "true");
  if (f.commented) params.set("commented", "true");
  if (f.within) params.set("within", f.within);
  return params;
}

async function fetchPage(number, generation = S.generation) {
  const params = queueParams(); params.set("limit", PAGE); params.set("offset", number * PAGE);
  const answer = await api(projectPath(`/rows?${params}`));
  if (answer.status !== 200 || generation !== S.generation) return null;
  S.pages.set(number, answer.body.items);
  set({ total: answer.body.total, counts: answer.body.counts });
  return answer.body.items;
}

const loading = new Map();
function ensurePage(number) {
  if (S.pages.has(number)) return Promise.resolve(S.pages.get(number));
  const key = `${S.generation}:${number}`;
  if (!loading.has(key)) loading.set(key, fetchPage(number).finally(() => loading.delete(key)));
  return loading.get(key);
}
const rowAt = (i) => S.pages.get(Math.floor(i / PAGE))?.[i % PAGE];

async function loadQueue(rowCode = null) {
  S.generation += 1; S.pages = new Map(); S.prefetched = new Map();
  const generation = S.generation;
  await ensurePage(0);
  if (generation !== S.generation) return;
  let index = 0;
  if (rowCode) {
    const answer = await api(projectPath(`/position?${queueParams()}&code=${enc(rowCode)}`));
    if (answer.status === 200 && answer.body.position !== null) index = answer.body.position;
    else if (answer.status === 200) { await openCode(rowCode, -1); return; }
  }
  if (S.total === 0) { set({ index: -1, detail: null }); return; }
  await openIndex(index);
}

async function openIndex(i) {
  if (i < 0 || i >= S.total) return;
  set({ index: i });
  scrollToIndex(i);
  const row = rowAt(i) || (await ensurePage(Math.floor(i / PAGE)), rowAt(i));
  if (row && S.index === i) await openCode(row.source_code, i);
}

function scrollToIndex(i) {
  const box = document.getElementById("queue");
  if (!box) return;
  const top = i * ROW;
  if (top < box.scrollTop) box.scrollTop = top;
  else if (top + ROW > box.scrollTop + box.clientHeight) box.scrollTop = top + ROW - box.clientHeight;
}

async function openRowByCode(code) {
  const answer = await api(projectPath(`/position?${queueParams()}&code=${enc(code)}`));
  if (answer.status === 200 && answer.body.position !== null) await openIndex(answer.body.position);
  else await openCode(code, -1);
}

// ---------------------------------------------------------------------------- one row

async function readRow(code) {
  const kept = S.prefetched.get(code);
  S.prefetched.delete(code);
  if (kept && Date.now() - kept.at < PREFETCH_MS) return kept.answer; // a promise, maybe still in flight
  return api(projectPath(`/rows/${enc(code)}`));
}

async function openCode(code, index) {
  const answer = await readRow(code);
  if (answer.status !== 200) { show("error", answer.body.message || String(answer.status)); return; }
  if (index !== S.index && index !== -1) return; // the curator moved on meanwhile
  const focus = answer.body.chosen[0]?.code || answer.body.candidates[0]?.target_code || null;
  set({ detail: answer.body, etag: answer.etag, message: null, chosenIndex: 0, targetFocus: focus, history: [],
        sourceTree: null, targetTree: null });
  history.replaceState(null, "", `${location.pathname}${location.search}#row=${enc(code)}`);
  prefetch(index + 1);
  // History and both hierarchies wait until the curator stops on the row: holding "j"
  // through a chapter asks the server for rows only.
  clearTimeout(settling);
  settling = setTimeout(() => loadSurroundings(code, focus), SETTLE_MS);
}
let settling = null;
const SETTLE_MS = 150;

async function loadSurroundings(code, focus) {
  const [events, source] = await Promise.all([
    api(projectPath(`/rows/${enc(code)}/history`)),
    api(projectPath(`/concepts/source/${enc(code)}`)),
  ]);
  if (S.detail?.row.source_code !== code) return;
  set({ history: events.status === 200 ? events.body : [], sourceTree: source.status === 200 ? source.body : null });
  await browseTarget(focus);
}

async function browseTarget(code) {
  if (!code) { set({ targetTree: null, targetFocus: null }); return; }
  const answer = await api(projectPath(`/concepts/target/${enc(code)}`));
  if (answer.status === 200) set({ targetTree: answer.body, targetFocus: code });
}

async function prefetch(i) {
  if (i < 0 || i >= S.total) return;
  const row = rowAt(i) || (await ensurePage(Math.floor(i / PAGE)), rowAt(i));
  if (!row || S.prefetched.has(row.source_code)) return;
  const answer = api(projectPath(`/rows/${enc(row.source_code)}`));
  S.prefetched.set(row.source_code, { at: Date.now(), answer });
  if ((await answer).status !== 200) S.prefetched.delete(row.source_code);
}

function replaceQueueRow(row) {
  const page = S.pages.get(Math.floor(S.index / PAGE));
  const old = rowAt(S.index);
  if (page && old && old.source_code === row.source_code) page[S.index % PAGE] = Object.assign({}, row, { best_score: old.best_score });
}

async function decide(decision) {
  const code = S.detail.row.source_code;
  const answer = await api(projectPath(`/rows/${enc(code)}/decisions`),
    { method: "POST", headers: { "If-Match": S.etag }, body: JSON.stringify(decision) });
  return settle(answer, code);
}

async function undoLast() {
  const code = S.detail.row.source_code;
  const answer = await api(projectPath(`/rows/${enc(code)}/undo`), { method: "POST", headers: { "If-Match": S.etag } });
  return settle(answer, code);
}

async function settle(answer, code) {
  S.prefetched.delete(code);
  if (answer.status === 412) {
    const current = answer.body.current;
    await openCode(code, S.index);
    show("error", t("conflict", { who: current.updated_by, v: current.version }));
    return false;
  }
  if (answer.status !== 200) { show("error", answer.body.message || String(answer.status)); return false; }
  replaceQueueRow(answer.body.row);
  set({ detail: answer.body, etag: answer.etag, message: null, chosenIndex: Math.min(S.chosenIndex, Math.max(0, answer.body.chosen.length - 1)) });
  const events = await api(projectPath(`/rows/${enc(code)}/history`));
  if (events.status === 200 && S.detail?.row.source_code === code) set({ history: events.body });
  refreshProject(); loadProgress();
  return true;
}

function act(action) {
  if (!may(action)) { show("error", t("not-allowed", { action: word("actions", action) })); return; }
  const needs = S.vocab.actions.find((a) => a.code === action)?.needs_comment;
  if (needs || action === "comment") { set({ dialog: { kind: "comment", action } }); return; }
  if (action === "assign") { set({ dialog: { kind: "assign" } }); return; }
  if (action === "map") { openSearch(); return; }
  if (action === "undo") return undoLast();
  return decide({ action });
}

const currentTargets = () => S.detail.row.targets.map((x) => ({ code: x.code, equivalence: x.equivalence }));

function mapTo(targets) {
  if (!may("map")) { show("error", t("not-allowed", { action: word("actions", "map") })); return; }
  return decide({ action: "map", targets });
}

function pickCandidate(i, adding) {
  const c = S.detail.candidates[i];
  if (!c) return;
  const target = { code: c.target_code, equivalence: c.equivalence };
  mapTo(adding ? [...currentTargets().filter((x) => x.code !== target.code), target] : [target]);
}

function setEquivalence(i, equivalence) {
  mapTo(currentTargets().map((x, j) => (j === i ? { code: x.code, equivalence } : x)));
}

function cycleEquivalence() {
  const targets = currentTargets();
  if (!targets.length) return;
  const codes = S.vocab.equivalences.map((e) => e.code), i = Math.min(S.chosenIndex, targets.length - 1);
  setEquivalence(i, codes[(codes.indexOf(targets[i].equivalence) + 1) % codes.length]);
}

function removeTarget(i) {
  const targets = currentTargets().filter((_, j) => j !== i);
  if (targets.length) mapTo(targets);
  else show("error", t("not-allowed", { action: t("remove") }));
}

function addTarget(code, equivalence = "equivalent", replace = false) {
  const target = { code, equivalence };
  mapTo(replace ? [target] : [...currentTargets().filter((x) => x.code !== code), target]);
}

// ---------------------------------------------------------------------------- hierarchies

function treeStep(direction) {
  const tree = S.targetTree;
  if (!tree) return;
  if (direction === "up" && tree.path.length) browseTarget(tree.path[tree.path.length - 1].code);
  if (direction === "down" && tree.children.length) browseTarget(tree.children[0].code);
  if (direction === "next" || direction === "previous") {
    const parentCode = tree.path[tree.path.length - 1]?.code;
    if (!parentCode) return;
    api(projectPath(`/concepts/target/${enc(parentCode)}`)).then((answer) => {
      if (answer.status !== 200) return;
      const codes = answer.body.children.map((c) => c.code), i = codes.indexOf(tree.code);
      const next = codes[(i + (direction === "next" ? 1 : -1) + codes.length) % codes.length];
      if (next) browseTarget(next);
    });
  }
}

function sourceParent() {
  const path = S.sourceTree?.path || [];
  if (path.length) openRowByCode(path[path.length - 1].code);
}

// ---------------------------------------------------------------------------- filters

let typing = null;
const TYPING_MS = 80; // a pause in typing this long runs the search
function setFilter(patch, immediate = false) {
  S.filters = Object.assign({}, S.filters, patch);
  redraw();
  clearTimeout(typing);
  const run = () => { const box = document.getElementById("queue"); if (box) box.scrollTop = 0; loadQueue(); };
  if (immediate) run(); else typing = setTimeout(run, TYPING_MS);
}

// ---------------------------------------------------------------------------- keyboard

const KEYS = {
  "j": [() => openIndex(S.index + 1), "k-next"], "ArrowDown": [() => openIndex(S.index + 1), null],
  "k": [() => openIndex(S.index - 1), "k-prev"], "ArrowUp": [() => openIndex(S.index - 1), null],
  "e": [cycleEquivalence, "k-equiv"],
  "c": [() => set({ chosenIndex: (S.chosenIndex + 1) % Math.max(1, S.detail.row.targets.length) }), "k-select"],
  "x": [() => removeTarget(S.chosenIndex), "k-remove"],
  "s": [() => act("submit"), "submit"], "a": [() => act("accept"), "accept"], "r": [() => act("reject"), "reject"],
  "n": [() => act("no_map"), "no_map"], "f": [() => act("flag"), "flag"], "o": [() => act("reopen"), "reopen"],
  "m": [() => act("comment"), "k-comment"], "u": [() => act("undo"), "k-undo"], "g": [() => act("assign"), "k-assign"],
  "/": [() => openSearch(), "k-search"], "q": [() => document.getElementById("queue-search")?.focus(), "k-queue"],
  "h": [() => treeStep("up"), "k-up"], "l": [() => treeStep("down"), "k-down"],
  "J": [() => treeStep("next"), "k-sibling"], "K": [() => treeStep("previous"), null],
  "+": [() => S.targetFocus && addTarget(S.targetFocus), "k-plus"], "H": [sourceParent, "k-source-up"],
  "b": [() => mayInProject("bulk") && set({ dialog: { kind: "bulk" } }), "k-bulk"],
  "p": [() => set({ dialog: { kind: "progress" } }), "k-progress"],
};

function onKey(event) {
  if (!S.signedIn || !S.project || S.dialog || event.ctrlKey || event.metaKey || event.altKey) return;
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (!S.detail) return;
  const digit = /^Digit([1-9])$/.exec(event.code);
  if (digit) { pickCandidate(Number(digit[1]) - 1, event.shiftKey); event.preventDefault(); return; }
  const entry = KEYS[event.key];
  if (entry) { entry[0](); event.preventDefault(); }
}

// ---------------------------------------------------------------------------- components

function Login() {
  const [token, setToken] = useState("");
  return html`<section id="login" class="panel pad">
    <h2>${t("login")}</h2><p class="muted">${t("login-help")}</p>
    <form id="login-form" onSubmit=${(e) => { e.preventDefault(); signIn(token.trim()); }}>
      <input class="wide" id="token" type="password" autocomplete="off" aria-label="token"
        value=${token} onInput=${(e) => setToken(e.target.value)} />
      <p><button class="primary" type="submit">${t("sign-in")}</button></p>
    </form>
    ${S.loginError && html`<div id="login-error" class="banner error">${t("bad-token")}</div>`}
  </section>`;
}

function Header() {
  const p = S.progress, project = S.project;
  const pct = p && p.total ? Math.round((1000 * p.decided) / p.total) / 10 : 0;
  return html`<header class="top">
    <h1>Concordance</h1>
    ${S.projects.length > 0 && html`<select id="project" aria-label="project" value=${project?.id}
        onChange=${(e) => openProject(Number(e.target.value))}>
      ${S.projects.filter((x) => !x.building).map((x) => html`<option value=${x.id}>${x.name}</option>`)}
    </select>`}
    ${project && html`<span class="muted small">${t("role")} : ${word("roles", project.role)}</span>`}
    ${p && html`<span id="progress-summary" title=${t("progress")}>
      <span class="bar"><span style=${{ width: `${pct}%` }}></span></span>
      <span data-progress="decided">${pct} % ${t("decided")}</span>
      ${p.frequency_covered !== null && html`<span data-progress="usage">${t("usage")} ${(100 * p.frequency_covered).toFixed(1)} %</span>`}
      <button class="link" id="open-progress" onClick=${() => set({ dialog: { kind: "progress" } })}>${t("progress")}</button>
    </span>`}
    <span class="grow"></span>
    ${mayInProject("bulk") && html`<button id="bulk" onClick=${() => set({ dialog: { kind: "bulk" } })}>${t("bulk")}</button>`}
    <button id="lang" aria-label="language" onClick=${() => { S.lang = S.lang === "fr" ? "en" : "fr"; localStorage.setItem("lang", S.lang); document.documentElement.lang = S.lang; redraw(); }}>
      ${S.lang === "fr" ? "EN" : "FR"}</button>
  </header>
  ${S.projects.filter((x) => x.building).map((x) => html`<div class="notice" data-building=${x.name}>
      ${t("building", { name: x.name, at: new Date(x.building).toLocaleTimeString(S.lang) })}</div>`)}`;
}

function QueueTools() {
  const f = S.filters;
  const chapters = S.progress?.chapters || [];
  return html`<div id="queue-tools">
    <input id="queue-search" type="search" placeholder=${t("search-queue")} aria-label="search the queue"
      value=${f.q} onInput=${(e) => setFilter({ q: e.target.value })} />
    <select id="filter" aria-label="status" value=${f.status} onChange=${(e) => setFilter({ status: e.target.value }, true)}>
      <option value="">${t("all-status")}</option>
      ${S.vocab.statuses.map((s) => html`<option value=${s.code}>${s[S.lang]}</option>`)}
    </select>
    <select id="band" aria-label="score" value=${f.band} onChange=${(e) => setFilter({ band: e.target.value }, true)}>
      <option value="">${t("all-scores")}</option>
      ${Object.entries(BAND_LABELS).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
    </select>
    <select id="method" aria-label="method" value=${f.method} onChange=${(e) => setFilter({ method: e.target.value }, true)}>
      <option value="">${t("all-methods")}</option>
      ${S.vocab.methods.map((m) => html`<option value=${m.code}>${m[S.lang]}</option>`)}
      <option value="none">${t("no-method")}</option>
    </select>
    <select id="assignee" aria-label="assignee" value=${f.assignee} onChange=${(e) => setFilter({ assignee: e.target.value }, true)}>
      <option value="">${t("all-assignees")}</option><option value="__mine">${t("mine")}</option>
      <option value="__none">${t("unassigned")}</option>
      ${S.members.map((m) => html`<option value=${m.name}>${m.name}</option>`)}
    </select>
    <select id="chapter" aria-label="chapter" value=${f.within} onChange=${(e) => setFilter({ within: e.target.value }, true)}>
      <option value="">${t("all-chapters")}</option>
      ${f.within && !chapters.some((c) => c.code === f.within) && html`<option value=${f.within}>${f.within}</option>`}
      ${chapters.filter((c) => c.code).map((c) => html`<option value=${c.code}>${(c.display || c.code).slice(0, 60)} (${c.total})</option>`)}
    </select>
    <select id="sort" aria-label="sort" value=${f.sort} onChange=${(e) => setFilter({ sort: e.target.value }, true)}>
      ${SORTS.map(([value, key]) => html`<option value=${value}>${t(key)}</option>`)}
    </select>
    <label class="check"><input type="checkbox" id="flagged" checked=${f.flagged} onChange=${(e) => setFilter({ flagged: e.target.checked }, true)} />${t("flagged")}</label>
    <label class="check"><input type="checkbox" id="commented" checked=${f.commented} onChange=${(e) => setFilter({ commented: e.target.checked }, true)} />${t("commented")}</label>
  </div>`;
}

function Queue() {
  const box = useRef(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  useLayoutEffect(() => {
    const element = box.current;
    const measure = () => setScroll({ top: element.scrollTop, height: element.clientHeight });
    measure();
    element.addEventListener("scroll", measure, { passive: true });
    window.addEventListener("resize", measure);
    return () => { element.removeEventListener("scroll", measure); window.removeEventListener("resize", measure); };
  }, []);
  const first = Math.max(0, Math.floor(scroll.top / ROW) - OVERSCAN);
  const last = Math.min(S.total, Math.ceil((scroll.top + scroll.height) / ROW) + OVERSCAN);
  useEffect(() => {
    for (let page = Math.floor(first / PAGE); page <= Math.floor(Math.max(first, last - 1) / PAGE); page += 1) ensurePage(page);
  }, [first, last, S.generation]);
  const items = [];
  for (let i = first; i < last; i += 1) {
    const row = rowAt(i);
    items.push(row
      ? html`<li key=${row.source_code} data-code=${row.source_code} data-index=${i} class=${i === S.index ? "current" : ""}
            style=${{ transform: `translateY(${i * ROW}px)`, position: "absolute", left: 0, right: 0 }}
            onClick=${() => openIndex(i)}>
          <span class="code">${row.source_code}</span><span class="label" title=${row.source_label || ""}>${row.source_label || ""}</span>
          ${row.flagged && html`<span class="flag">⚑</span>`}
          ${row.best_score !== null && html`<span class="score">${row.best_score.toFixed(2)}</span>`}
          <span class=${`status ${row.status}`} data-status=${row.status}>${word("statuses", row.status)}</span></li>`
      : html`<li key=${`loading-${i}`} class="loading" data-index=${i}
            style=${{ transform: `translateY(${i * ROW}px)`, position: "absolute", left: 0, right: 0 }}>…</li>`);
  }
  return html`<div id="queue" ref=${box} tabindex="0" aria-label="queue">
    <div class="spacer" style=${{ height: `${S.total * ROW}px` }}><ul>${items}</ul></div>
  </div>`;
}

function QueueFoot() {
  const counts = Object.entries(S.counts || {}).filter(([, n]) => n > 0);
  return html`<div id="queue-foot">
    <strong data-total=${S.total}>${S.total.toLocaleString(S.lang)} ${t("rows")}</strong>
    ${counts.map(([status, n]) => html`<span data-count=${status}><span class=${`status ${status}`}>${word("statuses", status)}</span> ${n.toLocaleString(S.lang)}</span>`)}
    ${S.filters.within && html`<span id="within-chip">${t("within", { code: S.filters.within })}
      <button class="link" onClick=${() => setFilter({ within: "" }, true)}>${t("clear")}</button></span>`}
  </div>`;
}

function Tree({ tree, side, candidates }) {
  if (!tree) return html`<div class="tree" data-tree=${side}><h4>${t(side === "source" ? "source-tree" : "target-tree")}</h4>—</div>`;
  const ranked = new Map((candidates || []).map((c) => [c.target_code, c]));
  const open = (code) => (side === "source" ? openRowByCode(code) : browseTarget(code));
  const node = (item, cls = "") => {
    const c = ranked.get(item.code);
    return html`<li class=${cls} data-node=${item.code}>
      <button class="link code" onClick=${() => open(item.code)}>${item.code}</button> ${item.display || ""}
      ${c && html` <span class="rank" title=${c.reason}>#${c.rank} ${c.score.toFixed(2)}</span>`}</li>`;
  };
  return html`<div class="tree" data-tree=${side}>
    <h4>${t(side === "source" ? "source-tree" : "target-tree")}</h4>
    <ol class="path">${tree.path.map((p) => node(p))}${node({ code: tree.code, display: tree.display }, "focus")}</ol>
    ${side === "source"
      ? html`<button class="link small" onClick=${() => setFilter({ within: tree.code }, true)}>${t("filter-subtree")}</button>`
      : html`<button class="link small" data-add-focus onClick=${() => addTarget(tree.code)}>${t("add-target")}</button>`}
    ${tree.children.length > 0 && html`<div class="section">${t("children")} (${tree.children_total})</div>
      <ol>${tree.children.map((c) => node(c))}${tree.children_total > tree.children.length && html`<li class="more">${t("more", { n: tree.children_total - tree.children.length })}</li>`}</ol>`}
    ${tree.siblings.length > 0 && html`<div class="section">${t("siblings")} (${tree.siblings_total})</div>
      <ol>${tree.siblings.map((c) => node(c))}${tree.siblings_total > tree.siblings.length && html`<li class="more">${t("more", { n: tree.siblings_total - tree.siblings.length })}</li>`}</ol>`}
  </div>`;
}

function Chosen() {
  const d = S.detail, row = d.row;
  if (row.no_map) return html`<div id="chosen"><strong>${t("no-map")}</strong></div>`;
  if (!d.chosen.length) return html`<div id="chosen" class="muted">${t("none")}</div>`;
  return html`<div id="chosen" class="chosen-list">${d.chosen.map((c, i) => html`
    <div class=${`chosen-item ${i === S.chosenIndex ? "selected" : ""}`} data-chosen=${c.code}>
      <strong class="code">${c.code}</strong> <span class="grow">${c.display || ""}</span>
      <select class="equivalence" aria-label=${t("equivalence")} value=${c.equivalence} disabled=${!may("map")}
        onChange=${(e) => setEquivalence(i, e.target.value)}>
        ${S.vocab.equivalences.map((e) => html`<option value=${e.code}>${e[S.lang]}</option>`)}
      </select>
      <span class="status" data-equivalence=${c.equivalence}>${c.equivalence}</span>
      <span class="muted small">${c.score === null ? "" : c.score.toFixed(2)}</span>
      ${may("map") && html`<button class="link" data-remove=${c.code} onClick=${() => removeTarget(i)}>${t("remove")}</button>`}
    </div>`)}</div>`;
}

function Answers() {
  const d = S.detail;
  if (!d.answers.length) return null;
  const reconciling = may("reconcile");
  return html`<h3>${t("answers")}</h3><div class="answers" id="answers">${d.answers.map((a) => html`
    <div class="answer" data-answer=${a.author}>
      <h4>${a.author}</h4>
      ${a.no_map ? html`<div>${t("no-map")}</div>` : a.targets.map((x) => html`<div><span class="code">${x.code}</span> <span class="status">${word("equivalences", x.equivalence)}</span></div>`)}
      ${a.comment && html`<div class="muted small">${a.comment}</div>`}
      ${reconciling && html`<p><button data-keep=${a.author} onClick=${() => decide({ action: "reconcile", targets: a.targets, no_map: a.no_map })}>${t("keep-answer")}</button></p>`}
    </div>`)}
  </div>
  ${reconciling && html`<p><button data-reconcile-nomap onClick=${() => set({ dialog: { kind: "comment", action: "reconcile", noMap: true } })}>${t("reconcile-nomap")}</button></p>`}`;
}

function Candidates() {
  const d = S.detail;
  let previous = null;
  return html`<table id="candidates"><thead><tr><th>#</th><th>${t("target")}</th><th>score</th><th>${t("reason")}</th><th></th></tr></thead>
    <tbody>${d.candidates.map((c, i) => {
      const same = c.reason === previous; previous = c.reason;
      const path = (c.target_context.parents || []).map((p) => `${p.code} ${p.display || ""}`).join(" · ");
      return html`<tr data-target=${c.target_code} class=${same ? "same-reason" : ""}>
        <td><kbd>${i + 1}</kbd></td>
        <td><button class="link code" onClick=${() => browseTarget(c.target_code)}>${c.target_code}</button> ${c.target_label || ""}
          ${path && html`<div class="small muted">↑ ${path}</div>`}</td>
        <td>${c.score.toFixed(2)}<div class="small muted">${word("methods", c.method)}</div></td>
        <td class="reason" title=${c.reason}>${same ? t("same-reason") : c.reason}</td>
        <td>${may("map") && html`<button data-candidate=${i} onClick=${() => pickCandidate(i, false)}>${t("pick")}</button>
          <button data-add=${i} onClick=${() => pickCandidate(i, true)}>${t("add")}</button>`}</td></tr>`;
    })}</tbody></table>`;
}

function Actions() {
  const d = S.detail;
  const shown = d.allowed_actions.filter((a) => a !== "map" && a !== "reconcile");
  return html`<div class="actions" id="actions">
    ${may("map") && html`<button data-action="map" onClick=${() => openSearch()}>${t("search-target")}</button>`}
    ${shown.map((a) => html`<button data-action=${a} onClick=${() => act(a)}>${word("actions", a)}</button>`)}
  </div>`;
}

function Detail() {
  const d = S.detail;
  if (!d) return html`<section class="panel pad" id="detail-empty">${S.total === 0 ? t("empty") : "…"}</section>`;
  const row = d.row, source = d.source;
  const synonyms = (source.synonyms || []).map((s) => s.label).slice(0, 6).join(" · ");
  return html`<section>
    ${S.message && html`<div id="message" class=${`banner ${S.message.kind}`} role="alert">${S.message.text}</div>`}
    <div class="panel pad" id="detail">
      <div class="headline">
        <h2 class="code" id="source-code">${row.source_code}</h2>
        <span class="label" id="source-label">${row.source_label || ""}</span>
        <span id="row-status" class=${`status ${row.status}`} data-status=${row.status}>${word("statuses", row.status)}</span>
        ${row.flagged && html`<span class="flag" id="row-flag">⚑ ${row.flag_reason || ""}</span>`}
        ${row.assignee && html`<span class="muted small" id="row-assignee">${t("assignee-label", { who: row.assignee })}</span>`}
      </div>
      ${synonyms && html`<div class="muted small">≈ ${synonyms}</div>`}
      ${row.comment && html`<div class="small" id="row-comment">💬 ${row.comment}</div>`}
      <${Actions} />
      <h3>${t("decision")}</h3>
      <${Chosen} />
      ${row.author && html`<div class="muted small">✎ ${row.author}${row.reviewer ? ` · ✓ ${row.reviewer}` : ""} · ${t("version")} ${row.version}</div>`}
      <${Answers} />
      <h3>${t("candidates")}</h3>
      <${Candidates} />
      <div class="context">
        <${Tree} tree=${S.sourceTree} side="source" />
        <${Tree} tree=${S.targetTree} side="target" candidates=${d.candidates} />
      </div>
      <${Shortcuts} />
      <h3>${t("history")}</h3>
      <table id="history"><tbody>${S.history.slice().reverse().map((e) => html`
        <tr data-action=${e.action}><td class="muted">${new Date(e.at).toLocaleString(S.lang)}</td><td>${e.actor}</td>
          <td>${word("actions", e.action)}</td>
          <td>${word("statuses", (e.before || {}).status || "")} → ${word("statuses", (e.after || {}).status || "")}</td>
          <td>${e.comment || ""}</td></tr>`)}</tbody></table>
    </div>
  </section>`;
}

function Shortcuts() {
  const items = [html`<span><kbd>1</kbd>–<kbd>9</kbd> ${t("k-pick")}</span>`, html`<span><kbd>⇧</kbd>+<kbd>1</kbd>–<kbd>9</kbd> ${t("k-add")}</span>`];
  for (const [key, [, label]] of Object.entries(KEYS)) {
    if (!label) continue;
    const text = label.startsWith("k-") ? t(label) : word("actions", label);
    items.push(html`<span><kbd>${key}</kbd> ${text}</span>`);
  }
  return html`<div id="shortcuts">${items}</div>`;
}

// ---------------------------------------------------------------------------- dialogs

function Dialog({ id, children, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog.open) dialog.showModal();
    const cancel = (e) => { e.preventDefault(); onClose(); };
    dialog.addEventListener("cancel", cancel);
    return () => dialog.removeEventListener("cancel", cancel);
  }, []);
  return html`<dialog id=${id} ref=${ref}>${children}</dialog>`;
}
const closeDialog = () => set({ dialog: null });

function CommentDialog({ action, noMap }) {
  const [text, setText] = useState("");
  const send = async () => {
    if (!text.trim()) return;
    closeDialog();
    if (action === "reconcile") await decide({ action, no_map: true, comment: text.trim() });
    else await decide({ action, comment: text.trim() });
  };
  return html`<${Dialog} id="comment-dialog" onClose=${closeDialog}>
    <h3>${t("comment-for", { action: word("actions", noMap ? "reconcile" : action) })}</h3>
    <textarea id="comment-text" aria-label=${t("comment-title")} value=${text} onInput=${(e) => setText(e.target.value)}
      onKeyDown=${(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(); }} autofocus></textarea>
    <div class="row"><button class="primary" id="comment-send" onClick=${send}>${t("send")}</button>
      <button onClick=${closeDialog}>${t("cancel")}</button></div>
  <//>`;
}

function openSearch() {
  if (!may("map")) { show("error", t("not-allowed", { action: word("actions", "map") })); return; }
  set({ dialog: { kind: "search" } });
}

function SearchDialog() {
  const [text, setText] = useState("");
  const [results, setResults] = useState([]);
  const [active, setActive] = useState(0);
  const [equivalence, setEq] = useState("equivalent");
  const [replace, setReplace] = useState(!S.detail.row.targets.length);
  const asked = useRef(0);
  const search = async (value) => {
    setText(value);
    const q = value.trim();
    if (q.length < 2) { setResults([]); return; }
    const mine = ++asked.current;
    const answer = await api(projectPath(`/targets?q=${enc(q)}&limit=30`));
    if (mine === asked.current && answer.status === 200) { setResults(answer.body); setActive(0); }
  };
  const choose = (code) => { closeDialog(); addTarget(code, equivalence, replace); };
  const onKeyDown = (e) => {
    if (e.key === "ArrowDown") { setActive(Math.min(active + 1, results.length - 1)); e.preventDefault(); }
    else if (e.key === "ArrowUp") { setActive(Math.max(active - 1, 0)); e.preventDefault(); }
    else if (e.key === "Enter") { e.preventDefault(); if (results[active]) choose(results[active].code); }
  };
  return html`<${Dialog} id="search-dialog" onClose=${closeDialog}>
    <h3>${t("search-target")}</h3>
    <input class="wide" id="search-text" aria-label="search" value=${text} onInput=${(e) => search(e.target.value)} onKeyDown=${onKeyDown} autofocus />
    <div class="row small muted">${t("search-help")}</div>
    <div class="row">
      <label>${t("equivalence")} <select id="search-equivalence" value=${equivalence} onChange=${(e) => setEq(e.target.value)}>
        ${S.vocab.equivalences.map((e) => html`<option value=${e.code}>${e[S.lang]}</option>`)}</select></label>
      <label><input type="checkbox" id="search-replace" checked=${replace} onChange=${(e) => setReplace(e.target.checked)} /> ${t("replace")}</label>
    </div>
    <ul id="search-results">${results.map((c, i) => html`
      <li class=${i === active ? "active" : ""} data-result=${c.code} onMouseEnter=${() => setActive(i)}>
        <button class="link" type="button" data-pick=${c.code} onClick=${() => choose(c.code)}><span class="code">${c.code}</span> ${c.display || ""}</button>
        <div class="path">${(c.path || []).map((p) => p.display || p.code).join(" › ")}</div></li>`)}</ul>
    <button onClick=${closeDialog}>${t("close")}</button>
  <//>`;
}

function BulkDialog() {
  const [method, setMethod] = useState("");
  const [threshold, setThreshold] = useState("0.95");
  const [precision, setPrecision] = useState("");
  const [scope, setScope] = useState(S.filters.within ? "within" : "all");
  const [outcome, setOutcome] = useState(null);
  const [done, setDone] = useState(null);
  const request = () => {
    const body = { action: "accept-candidates" };
    if (method) body.method = method;
    if (precision) body.expected_precision = Number(precision); else if (threshold) body.min_score = Number(threshold);
    if (scope === "within" && S.filters.within) body.within = S.filters.within;
    return body;
  };
  const preview = async () => {
    setDone(null);
    const answer = await api(projectPath("/bulk-decisions?preview=true"), { method: "POST", body: JSON.stringify(request()) });
    if (answer.status === 200) setOutcome(answer.body); else show("error", answer.body.message);
  };
  const confirm = async () => {
    const answer = await api(projectPath("/bulk-decisions"), { method: "POST", body: JSON.stringify(request()) });
    if (answer.status !== 200) { show("error", answer.body.message); return; }
    setOutcome(null); setDone(answer.body); S.lastBatch = answer.body.batch;
    await loadQueue(S.detail?.row.source_code); refreshProject(); loadProgress();
  };
  const undoBatch = async () => {
    const answer = await api(projectPath(`/bulk-decisions/${done.batch}/undo`), { method: "POST" });
    if (answer.status !== 200) { show("error", answer.body.message); return; }
    setDone(null); closeDialog();
    await loadQueue(S.detail?.row.source_code); refreshProject(); loadProgress();
    show("info", t("batch-undone", { n: answer.body.applied.length }));
  };
  return html`<${Dialog} id="bulk-dialog" onClose=${closeDialog}>
    <h3>${t("bulk")}</h3>
    <div class="row"><label>${t("bulk-method")} <select id="bulk-method" value=${method} onChange=${(e) => { setMethod(e.target.value); setOutcome(null); }}>
      <option value="">${t("all-methods")}</option>${S.vocab.methods.map((m) => html`<option value=${m.code}>${m[S.lang]}</option>`)}</select></label></div>
    <div class="row"><label>${t("bulk-threshold")} <input id="bulk-threshold" type="number" min="0" max="1" step="0.01" value=${threshold}
        onInput=${(e) => { setThreshold(e.target.value); setOutcome(null); }} /></label>
      <label>${t("bulk-precision")} <input id="bulk-precision" type="number" min="0.5" max="1" step="0.01" value=${precision}
        onInput=${(e) => { setPrecision(e.target.value); setOutcome(null); }} /></label></div>
    <div class="row"><label>${t("bulk-scope")} <select id="bulk-scope" value=${scope} onChange=${(e) => { setScope(e.target.value); setOutcome(null); }}>
      <option value="all">${t("bulk-all")}</option>${S.filters.within && html`<option value="within">${t("bulk-within")}</option>`}</select></label></div>
    <div class="row"><button id="bulk-preview" onClick=${preview}>${t("preview")}</button>
      ${outcome && outcome.applied.length > 0 && html`<button class="primary" id="bulk-confirm" onClick=${confirm}>${t("confirm")}</button>`}
      <button onClick=${closeDialog}>${t("close")}</button></div>
    ${outcome && html`<div id="bulk-outcome"><p data-would=${outcome.applied.length}>${t("bulk-preview", { n: outcome.applied.length, s: outcome.skipped.length })}</p>
      <table><tbody>${outcome.sample.map((r) => html`<tr><td class="code">${r.source_code}</td><td>${r.source_label || ""}</td>
        <td class="code">${r.targets.map((x) => x.code).join(", ")}</td><td class="small muted">${r.reason || ""}</td></tr>`)}</tbody></table></div>`}
    ${done && html`<div id="bulk-done"><p data-applied=${done.applied.length}>${t("bulk-done", { n: done.applied.length, batch: done.batch.slice(0, 8) })}</p>
      <button id="bulk-undo" onClick=${undoBatch}>${t("undo-batch")}</button></div>`}
  <//>`;
}

function AssignDialog() {
  const [who, setWho] = useState(S.members[0]?.name || "");
  const [scope, setScope] = useState("row");
  const [from, setFrom] = useState(S.detail.row.source_code);
  const [to, setTo] = useState(S.detail.row.source_code);
  const chapter = S.sourceTree?.path?.[0]?.code || null;
  const send = async () => {
    const body = { action: "assign", assignee: who };
    if (scope === "row") body.codes = [S.detail.row.source_code];
    if (scope === "chapter") body.within = chapter;
    if (scope === "within") body.within = S.filters.within;
    if (scope === "range") { body.code_from = from; body.code_to = to; }
    const answer = await api(projectPath("/bulk-decisions"), { method: "POST", body: JSON.stringify(body) });
    closeDialog();
    if (answer.status !== 200) { show("error", answer.body.message); return; }
    await loadQueue(S.detail?.row.source_code); loadProgress();
    show("info", t("assigned", { n: answer.body.applied.length, who }));
  };
  return html`<${Dialog} id="assign-dialog" onClose=${closeDialog}>
    <h3>${t("assign")}</h3>
    <div class="row"><label>${t("assignee")} <select id="assign-who" value=${who} onChange=${(e) => setWho(e.target.value)}>
      ${S.members.map((m) => html`<option value=${m.name}>${m.name} (${word("roles", m.role)})</option>`)}</select></label></div>
    <div class="row"><label>${t("scope")} <select id="assign-scope" value=${scope} onChange=${(e) => setScope(e.target.value)}>
      <option value="row">${t("this-row")}</option>
      ${chapter && html`<option value="chapter">${t("this-chapter")}</option>`}
      ${S.filters.within && html`<option value="within">${t("bulk-within")}</option>`}
      <option value="range">${t("code-range")}</option></select></label></div>
    ${scope === "range" && html`<div class="row"><label>${t("from")} <input id="assign-from" value=${from} onInput=${(e) => setFrom(e.target.value)} /></label>
      <label>${t("to")} <input id="assign-to" value=${to} onInput=${(e) => setTo(e.target.value)} /></label></div>`}
    <div class="row"><button class="primary" id="assign-send" onClick=${send}>${t("assign")}</button><button onClick=${closeDialog}>${t("cancel")}</button></div>
  <//>`;
}

function ProgressDialog() {
  const p = S.progress;
  const pct = (n, total) => (total ? `${((100 * n) / total).toFixed(1)} %` : "—");
  return html`<${Dialog} id="progress-dialog" onClose=${closeDialog}>
    <h3>${t("progress")}</h3>
    ${p && html`<p id="progress-overall">${pct(p.decided, p.total)} ${t("decided")} · ${pct(p.accepted, p.total)} ${t("accepted-share")}
      ${p.frequency_covered !== null && html` · ${t("usage")} ${(100 * p.frequency_covered).toFixed(1)} %`}</p>
    <table id="progress-curators"><thead><tr><th>${t("curator")}</th><th>${t("authored")}</th><th>${t("accepted")}</th><th>${t("assigned-rows")}</th></tr></thead>
      <tbody>${p.curators.map((c) => html`<tr data-curator=${c.name}><td>${c.name}</td><td>${c.authored}</td><td>${c.accepted}</td>
        <td>${c.assigned} (${pct(c.assigned_decided, c.assigned)})</td></tr>`)}</tbody></table>
    <h4>${t("chapter")}</h4>
    <table id="progress-chapters"><tbody>${p.chapters.map((c) => html`<tr data-chapter=${c.code || ""}>
      <td><button class="link" onClick=${() => { closeDialog(); setFilter({ within: c.code || "" }, true); }}>${(c.display || c.code || "—").slice(0, 70)}</button></td>
      <td><span class="bar"><span style=${{ width: pct(c.decided, c.total).replace(" ", "") }}></span></span></td>
      <td>${c.decided} / ${c.total}</td></tr>`)}</tbody></table>`}
    <p><button onClick=${closeDialog}>${t("close")}</button></p>
  <//>`;
}

const DIALOGS = { comment: CommentDialog, search: SearchDialog, bulk: BulkDialog, assign: AssignDialog, progress: ProgressDialog };

function App() {
  const [, tick] = useState(0);
  redraw = () => tick((n) => n + 1);
  useEffect(() => {
    document.addEventListener("keydown", onKey);
    const follow = () => { // a #row=CODE link followed in an open page
      const code = wantedRow();
      if (code && S.project && code !== S.detail?.row.source_code) openRowByCode(code);
    };
    window.addEventListener("hashchange", follow);
    return () => { document.removeEventListener("keydown", onKey); window.removeEventListener("hashchange", follow); };
  }, []);
  document.documentElement.lang = S.lang;
  if (!S.signedIn) return html`<${Login} /><footer class="foot" id="footer">${t("footer")}</footer>`;
  const Open = S.dialog && DIALOGS[S.dialog.kind];
  return html`<div id="app">
    <${Header} />
    ${S.project && html`<main class="work">
      <section class="panel">
        <${QueueTools} /><${Queue} /><${QueueFoot} />
      </section>
      <${Detail} />
    </main>`}
    ${Open && html`<${Open} ...${S.dialog} />`}
    <footer class="foot" id="footer">${t("footer")}</footer>
  </div>`;
}

const root = document.getElementById("root");
root.textContent = "";
render(html`<${App} />`, root);
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  const rest = new URLSearchParams(location.hash.slice(1)); rest.delete("token");
  history.replaceState(null, "", location.pathname + location.search + (rest.toString() ? `#${rest}` : ""));
  signIn(fromLink);
} else if (S.token) signIn(S.token);
