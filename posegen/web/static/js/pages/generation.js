// One generation: live progress while it runs, then its results. A tile per pose fills with its
// thumbnail the moment `pose.completed` arrives; failures show their reason and refund. The page
// loads the generation (with its `lastSeq`), then follows its events from there, so a reload or a
// reconnect resumes without gaps and without repeats (live.js drops seqs already seen).

import { api, APP, ApiError } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatDate, formatNumber, has, page, t } from "../i18n.js";
import { refreshBalance } from "../layout.js";
import { LiveEvents } from "../live.js";
import { describeFormat, loadFormats, statusBadge } from "../generation-common.js";

const generationId = page.generationId;
const TERMINAL = new Set(["completed", "partial", "failed", "canceled"]);
const FINISHED_POSE = new Set(["completed", "failed", "canceled"]);
const QUEUE_POLL_MS = 5000;

const $ = (selector) => document.querySelector(selector);
const ui = {
  heading: $("[data-heading]"),
  summary: $("[data-summary]"),
  status: $("[data-gen-status]"),
  connection: $("[data-connection]"),
  connectionText: $("[data-connection-text]"),
  error: $("[data-page-error]"),
  panel: $("[data-panel]"),
  bar: $("[data-progress-bar]"),
  progressText: $("[data-progress-text]"),
  queue: $("[data-queue]"),
  eta: $("[data-eta]"),
  more: $("[data-progress-more]"),
  credits: $("[data-credits]"),
  cancel: $("[data-cancel]"),
  retry: $("[data-retry]"),
  zip: $("[data-zip]"),
  posesHeading: $("[data-poses-heading]"),
  tiles: $("[data-tiles]"),
  loading: $("[data-loading]"),
  confirm: $("[data-confirm]"),
  viewer: $("[data-viewer]"),
};

const state = {
  generation: null,
  progress: null,
  poses: new Map(), // generated pose id → pose (API shape, plus local fields: refunded, step, background)
  order: [],
  names: new Map(), // library pose id → name
  tiles: new Map(), // generated pose id → <li>
  viewing: null, // generated pose id shown in the large view
  live: null,
};

// ---------------------------------------------------------------------------------------------
// Loading

async function fetchGeneration() {
  return api(`${APP}/generations/${encodeURIComponent(generationId)}`);
}

/** Merge a fresh GET into the page. A pose the page already knows as finished is not put back to
 * queued by an answer that was read before its event arrived (only a retry does that, locally). */
function merge(result) {
  const { poses, ...generation } = result.generation;
  const wasTerminal = state.generation && TERMINAL.has(state.generation.status);
  if (!(wasTerminal && !TERMINAL.has(generation.status) && state.generation.lastSeq > generation.lastSeq)) {
    state.generation = generation;
    state.progress = result.progress;
  }
  state.order = poses.map((pose) => pose.id);
  for (const fresh of poses) {
    const known = state.poses.get(fresh.id);
    if (known && FINISHED_POSE.has(known.status) && !FINISHED_POSE.has(fresh.status)) {
      continue;
    }
    state.poses.set(fresh.id, {
      ...fresh,
      refunded: known?.refunded ?? null,
      step: FINISHED_POSE.has(fresh.status) ? null : (known?.step ?? null),
      background: known?.background ?? null,
    });
  }
}

async function resolveNames() {
  const wanted = [...new Set([...state.poses.values()].map((pose) => pose.poseId).filter(Boolean))].filter(
    (poseId) => !state.names.has(poseId),
  );
  await Promise.all(
    wanted.map(async (poseId) => {
      try {
        const { pose } = await api(`${APP}/library/${encodeURIComponent(poseId)}`);
        state.names.set(poseId, pose.name);
      } catch {
        state.names.set(poseId, null); // hidden or deleted since: the variation label stands alone
      }
    }),
  );
}

async function refresh() {
  try {
    merge(await fetchGeneration());
    await resolveNames();
    render();
  } catch (error) {
    showError(error);
  }
}

function showError(error) {
  ui.error.textContent = error instanceof ApiError ? error.text : t("errors.UNKNOWN");
}

async function start() {
  let result;
  try {
    result = await fetchGeneration();
  } catch (error) {
    ui.loading.hidden = true;
    ui.error.textContent =
      error instanceof ApiError && error.code === "NOT_FOUND" ? t("generation.notFound") : t("errors.UNKNOWN");
    setConnection("ended");
    return;
  }
  merge(result);
  await resolveNames();
  ui.loading.hidden = true;
  ui.tiles.removeAttribute("aria-busy");
  render();
  state.live = new LiveEvents({ onEvent, onState: setConnection }).start();
  state.live.follow(generationId, state.generation.lastSeq ?? 0);
  setInterval(() => {
    if (state.generation?.status === "queued") refresh();
  }, QUEUE_POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Live events

function onEvent(event) {
  if (event.generationId !== generationId) return;
  const data = event.data ?? {};
  const generation = state.generation;
  if (typeof event.seq === "number") generation.lastSeq = Math.max(generation.lastSeq ?? 0, event.seq);
  const pose = data.poseId ? state.poses.get(data.poseId) : null;
  switch (event.kind) {
    case "generation.queued":
      generation.status = "queued";
      render();
      break;
    case "generation.requeued": // a retry or an admin's requeue (from this page or elsewhere)
      generation.status = data.status ?? "queued";
      requeueFailed(Array.isArray(data.poseIds) ? data.poseIds : null);
      render();
      break;
    case "generation.started":
      generation.status = "processing";
      if (state.progress) state.progress.queuePosition = 0;
      renderHeader();
      break;
    case "pose.progress":
      if (pose && !FINISHED_POSE.has(pose.status)) {
        pose.status = "running";
        pose.step = { step: data.step, steps: data.steps, percentage: data.percentage };
        renderTile(pose);
      }
      break;
    case "pose.completed":
      if (pose) {
        Object.assign(pose, {
          status: "completed",
          thumbnailUrl: data.thumbnailUrl,
          step: null,
          errorCode: null,
          poseScore: data.poseScore ?? null,
          poseCheck: data.poseCheck ?? null,
        });
        renderTile(pose);
        renderHeader();
      }
      break;
    case "pose.failed":
      if (pose) {
        const canceled = data.errorCode === "CANCELED";
        Object.assign(pose, {
          status: canceled ? "canceled" : "failed",
          errorCode: data.errorCode,
          refunded: data.refunded ?? null,
          step: null,
        });
        renderTile(pose);
        renderHeader();
      }
      break;
    case "generation.progress":
      state.progress = {
        ...(state.progress ?? {}),
        percentage: data.percentage,
        estimatedTimeRemaining: data.estimatedTimeRemaining,
      };
      if (generation.status === "queued") generation.status = "processing";
      renderHeader();
      break;
    case "generation.completed":
    case "generation.partial":
    case "generation.failed":
    case "generation.canceled":
      generation.status = event.kind.split(".")[1];
      renderHeader();
      announce(finishedMessage());
      refresh();
      refreshBalance().catch(() => {});
      break;
    case "background.completed":
      if (pose) {
        pose.background = null;
        if (data.thumbnailUrl) pose.thumbnailUrl = data.thumbnailUrl;
        renderTile(pose);
        announce(t("generation.backgroundDone", { name: poseLabel(pose).full }));
        refresh();
      }
      break;
    case "background.failed":
      if (pose) {
        pose.background = { failed: true, errorCode: data.errorCode, refunded: data.refunded ?? null };
        renderTile(pose);
        announce(backgroundFailure(pose.background));
        refreshBalance().catch(() => {});
      }
      break;
    default:
      break;
  }
}

function finishedMessage() {
  const counts = countPoses();
  if (state.generation.status === "completed") return t("generation.completedAll");
  if (state.generation.status === "canceled") return t("generation.cancelled");
  if (state.generation.status === "failed" && counts.completed === 0) return t("generation.finishedFailed");
  return t("generation.finishedPartial", { completed: counts.completed, failed: counts.failed + counts.canceled });
}

function setConnection(connection) {
  ui.connection.dataset.state = connection;
  ui.connectionText.textContent = t(`generation.${connection === "ended" ? "ended" : connection}`);
  ui.connection.className = `badge gen-connection ${connection === "live" ? "good" : connection === "connecting" ? "" : "warn"}`;
}

// ---------------------------------------------------------------------------------------------
// Rendering

function countPoses() {
  const counts = { total: state.order.length, completed: 0, failed: 0, canceled: 0, active: 0 };
  for (const id of state.order) {
    const status = state.poses.get(id)?.status;
    if (status === "completed") counts.completed += 1;
    else if (status === "failed") counts.failed += 1;
    else if (status === "canceled") counts.canceled += 1;
    else counts.active += 1;
  }
  return counts;
}

function render() {
  renderHeader();
  const seen = new Set();
  for (const id of state.order) {
    seen.add(id);
    renderTile(state.poses.get(id));
  }
  for (const [id, tile] of state.tiles) {
    if (!seen.has(id)) {
      tile.remove();
      state.tiles.delete(id);
    }
  }
  // Keep the tiles in the generation's order.
  ui.tiles.append(...state.order.map((id) => state.tiles.get(id)));
}

function renderHeader() {
  const generation = state.generation;
  if (!generation) return;
  const terminal = TERMINAL.has(generation.status);
  const counts = countPoses();
  const total = generation.totalPoses || counts.total;
  const done = counts.completed + counts.failed + counts.canceled;

  ui.heading.textContent = t(
    generation.generationType === "TEXT_DESCRIPTION" ? "generation.headingText" : "generation.headingGallery",
  );
  const quality = has(`generation.quality.${generation.quality}`)
    ? t(`generation.quality.${generation.quality}`)
    : generation.quality;
  fill(
    ui.summary,
    t("generation.summary", { quality, engine: generation.engine, date: formatDate(generation.createdAt) }),
    generation.textPrompt ? h("span", { class: "gen-prompt" }, `“${generation.textPrompt}”`) : null,
  );
  statusBadge(ui.status, generation.status);
  ui.status.hidden = false;

  ui.panel.hidden = false;
  const percentage = total ? Math.round((100 * done) / total) : 100;
  ui.bar.value = percentage;
  ui.bar.setAttribute("aria-valuetext", `${percentage}%`);
  ui.progressText.textContent = [
    t("generation.progressText", { done: formatNumber(done), total: formatNumber(total) }),
    counts.failed ? t("generation.progressFailed", { failed: formatNumber(counts.failed) }) : null,
  ]
    .filter(Boolean)
    .join(" · ");
  const position = state.progress?.queuePosition ?? 0;
  ui.queue.textContent =
    generation.status !== "queued"
      ? ""
      : position > 0
        ? t("generation.queueAhead", { count: formatNumber(position) })
        : t("generation.queueNext");
  ui.eta.textContent = terminal ? "" : timeLeft(state.progress?.estimatedTimeRemaining);
  ui.more.hidden = !ui.queue.textContent && !ui.eta.textContent;
  ui.credits.textContent = [
    generation.creditCharged ? t("generation.charged", { count: formatNumber(generation.creditCharged) }) : null,
    generation.creditRefunded
      ? t("generation.refundedTotal", { count: formatNumber(generation.creditRefunded) })
      : null,
  ]
    .filter(Boolean)
    .join(" · ");

  ui.cancel.hidden = terminal;
  ui.retry.hidden = !terminal || counts.failed + counts.canceled === 0;
  ui.zip.hidden = !terminal || counts.completed === 0;
  // Without `formats` the ZIP holds the originals and the formats the generation asked for.
  ui.zip.href = `${APP}/generations/${encodeURIComponent(generationId)}/export-zip`;
  ui.posesHeading.textContent = t(terminal ? "generation.resultsHeading" : "generation.posesHeading");
}

function timeLeft(seconds) {
  if (typeof seconds !== "number" || !(seconds > 0)) return "";
  if (seconds < 60) return t("generation.timeLeftSeconds", { seconds: formatNumber(Math.ceil(seconds)) });
  return t("generation.timeLeftMinutes", { minutes: formatNumber(Math.ceil(seconds / 60)) });
}

/** {title, meta, full}: the pose's name (library name, or the variation for text generations). */
function poseLabel(pose) {
  const name = pose.poseId ? state.names.get(pose.poseId) : null;
  const match = /-v(\d+)$/.exec(pose.variationKey ?? "");
  const number = match ? Number(match[1]) : pose.variationIndex + 1;
  if (state.generation.generationType === "TEXT_DESCRIPTION") {
    const title = t("generation.textVariation", { n: pose.variationIndex + 1 });
    return { title, meta: name ?? "", full: name ? `${title} · ${name}` : title };
  }
  const title = name ?? t("generation.unknownPose");
  const meta = t("generation.variation", { n: number });
  return { title, meta, full: `${title} · ${meta}` };
}

function renderTile(pose) {
  if (!pose) return;
  let tile = state.tiles.get(pose.id);
  if (!tile) {
    tile = h("li", { class: "tile gen-tile", dataset: { poseId: pose.id } });
    state.tiles.set(pose.id, tile);
    ui.tiles.append(tile);
  }
  tile.dataset.state = pose.status;
  const label = poseLabel(pose);
  const completed = pose.status === "completed" && pose.thumbnailUrl;

  // The thumbnail keeps its <img> when only its state changes, so it does not flash.
  let media = tile.querySelector(".tile-media");
  const image = media?.querySelector("img");
  if (!completed || !image || !sameFile(image.getAttribute("src"), pose.thumbnailUrl)) {
    media = completed
      ? h(
          "button",
          {
            type: "button",
            class: "tile-media gen-open",
            "aria-label": t("generation.open", { name: label.full }),
            onclick: () => openViewer(pose.id),
          },
          h("img", { src: pose.thumbnailUrl, alt: label.full, width: 256, height: 256, decoding: "async" }),
        )
      : h("div", { class: `tile-media gen-placeholder gen-placeholder-${pose.status}`, "aria-hidden": "true" });
  }

  const failed = pose.status === "failed" || pose.status === "canceled";
  // A cancelled pose says so in its badge; a failed one says why.
  const reason = pose.status === "failed" ? failureReason(pose.errorCode) : null;
  const refund = failed ? refundText(pose.refunded) : null;
  const step = pose.step && !FINISHED_POSE.has(pose.status) ? pose.step : null;

  fill(
    tile,
    media,
    h(
      "div",
      { class: "tile-body" },
      h("span", { class: "tile-title" }, label.title),
      h(
        "span",
        { class: "tile-meta" },
        label.meta ? h("span", { class: "gen-variation" }, label.meta) : null,
        statusBadge(h("span", { class: "badge" }), pose.status, true),
        poseCheckBadge(pose),
      ),
      step
        ? h(
            "div",
            { class: "gen-step" },
            h("progress", {
              max: step.steps || 100,
              value: step.step ?? 0,
              "aria-label": t("generation.step", { step: step.step, steps: step.steps }),
            }),
            h("span", { class: "gen-step-text" }, t("generation.step", { step: step.step, steps: step.steps })),
          )
        : null,
      failed
        ? h("p", { class: "gen-failure" }, reason, refund ? h("span", { class: "gen-refund" }, refund) : null)
        : null,
      pose.background
        ? h(
            "p",
            { class: pose.background.failed ? "gen-failure" : "gen-background muted" },
            pose.background.failed ? backgroundFailure(pose.background) : t("generation.backgroundPending"),
          )
        : null,
    ),
  );
}

// The pose check's verdict → its badge style and message (the score, as a percentage, where known).
const POSE_CHECKS = {
  passed: { style: "good", message: "checkPassed" },
  failed: { style: "bad", message: "checkFailed" },
  inconclusive: { style: "", message: "checkInconclusive" },
  skipped: { style: "", message: "checkSkipped" },
};

/** The badge of a pose's check: its score and verdict (a failed check was delivered flagged). */
function poseCheckBadge(pose) {
  const check = POSE_CHECKS[pose.poseCheck];
  if (!check || pose.status === "canceled") return null;
  const score = typeof pose.poseScore === "number" ? Math.round(pose.poseScore * 100) : null;
  const key = score === null ? `generation.${check.message}NoScore` : `generation.${check.message}`;
  return h(
    "span",
    { class: `badge gen-score ${check.style}`.trim(), dataset: { poseCheck: pose.poseCheck } },
    t(key, { percent: score ?? "" }),
  );
}

/** Whether two signed URLs name the same file (a fresh signature of the same key keeps the image). */
function sameFile(a, b) {
  if (!a || !b) return a === b;
  return new URL(a, window.location.href).pathname === new URL(b, window.location.href).pathname;
}

function failureReason(code) {
  return has(`poseErrors.${code}`) ? t(`poseErrors.${code}`) : t("poseErrors.UNKNOWN");
}

function refundText(refunded) {
  if (typeof refunded === "number") {
    return refunded > 0 ? t("generation.refunded", { count: formatNumber(refunded) }) : null;
  }
  return t("generation.refundedUnknown");
}

function backgroundFailure(background) {
  return t("generation.backgroundFailed", {
    reason: failureReason(background.errorCode),
    refunded: refundText(background.refunded) ?? "",
  }).trim();
}

// ---------------------------------------------------------------------------------------------
// Cancel and retry

ui.cancel.addEventListener("click", () => ui.confirm.showModal());
for (const selector of ["[data-confirm-close]", "[data-confirm-no]"]) {
  ui.confirm.querySelector(selector).addEventListener("click", () => ui.confirm.close());
}
ui.confirm.querySelector("[data-confirm-yes]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  ui.error.textContent = "";
  try {
    const { generation } = await api(`${APP}/generations/${encodeURIComponent(generationId)}/cancel`, {
      method: "POST",
    });
    ui.confirm.close();
    Object.assign(state.generation, { status: generation.status });
    await refresh();
    announce(t("generation.cancelled"));
    refreshBalance().catch(() => {});
  } catch (error) {
    ui.confirm.close();
    showError(error);
  } finally {
    button.disabled = false;
  }
});

function requeueFailed(poseIds = null) {
  for (const pose of state.poses.values()) {
    if (poseIds && !poseIds.includes(pose.id)) continue;
    if (pose.status === "failed" || pose.status === "canceled") {
      Object.assign(pose, { status: "queued", errorCode: null, refunded: null, step: null });
    }
  }
}

ui.retry.addEventListener("click", async () => {
  ui.retry.disabled = true;
  ui.error.textContent = "";
  try {
    const answer = await api(`${APP}/generations/${encodeURIComponent(generationId)}/retry`, { method: "POST" });
    requeueFailed();
    state.generation.status = "queued";
    render();
    announce(t("generation.retried", { count: formatNumber(answer.posesRequeued) }));
    refreshBalance().catch(() => {});
    await refresh();
  } catch (error) {
    showError(error);
  } finally {
    ui.retry.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// The large view: original, export downloads, render an export again, change the background

const viewer = {
  heading: ui.viewer.querySelector("[data-viewer-heading]"),
  image: ui.viewer.querySelector("[data-viewer-image]"),
  caption: ui.viewer.querySelector("[data-viewer-caption]"),
  exports: ui.viewer.querySelector("[data-exports]"),
  addForm: ui.viewer.querySelector("[data-add-export]"),
  addSelect: ui.viewer.querySelector("[data-add-format]"),
  background: ui.viewer.querySelector("[data-background]"),
};
let formats = [];

ui.viewer.querySelector("[data-viewer-close]").addEventListener("click", () => ui.viewer.close());
ui.viewer.addEventListener("close", () => {
  const tile = state.viewing && state.tiles.get(state.viewing);
  state.viewing = null;
  tile?.querySelector(".gen-open")?.focus();
});

async function openViewer(poseId) {
  // Fresh signed URLs (and the image and exports of a pose that completed while watching).
  await refresh();
  if (!formats.length) formats = await loadFormats().catch(() => []);
  const pose = state.poses.get(poseId);
  if (!pose || pose.status !== "completed") return;
  state.viewing = poseId;
  renderViewer(pose);
  clearFormError(viewer.background);
  if (!ui.viewer.open) ui.viewer.showModal();
}

function renderViewer(pose) {
  const label = poseLabel(pose);
  viewer.heading.textContent = label.full;
  viewer.image.src = pose.imageUrl ?? pose.thumbnailUrl;
  viewer.image.alt = label.full;
  viewer.caption.textContent =
    pose.width && pose.height ? `${t("generation.original")} · ${t("generation.formatSize", { width: pose.width, height: pose.height })}` : "";
  const rows = [];
  if (pose.imageUrl) {
    rows.push(
      h(
        "li",
        { class: "gen-export" },
        h("span", { class: "gen-export-name" }, t("generation.original")),
        h("a", { class: "button", href: pose.imageUrl, download: `${pose.variationKey}-original.png` }, t("generation.downloadOriginal")),
      ),
    );
  }
  const keys = Object.keys(pose.exports ?? {}).filter((key) => key !== "original");
  keys.sort((a, b) => formatIndex(a) - formatIndex(b));
  for (const key of keys) {
    const name = describeFormat(key, formats);
    rows.push(
      h(
        "li",
        { class: "gen-export" },
        h("span", { class: "gen-export-name" }, name.label, name.size ? h("span", { class: "muted" }, ` · ${name.size}`) : null),
        h(
          "span",
          { class: "actions" },
          h("a", { class: "button", href: pose.exports[key], download: "" }, t("generation.downloadFormat", { format: name.label })),
          h(
            "button",
            {
              type: "button",
              class: "button subtle",
              onclick: (event) => regenerate(pose, key, event.currentTarget),
            },
            t("generation.regenerateFormat", { format: name.label }),
          ),
        ),
      ),
    );
  }
  if (!keys.length) rows.push(h("li", { class: "muted" }, t("generation.exportsEmpty")));
  fill(viewer.exports, rows);
  const missing = formats.filter((format) => format.key !== "original" && !(format.key in (pose.exports ?? {})));
  viewer.addForm.hidden = missing.length === 0;
  fill(
    viewer.addSelect,
    missing.map((format) => {
      const name = describeFormat(format.key, formats);
      return h("option", { value: format.key }, name.size ? `${name.label} (${name.size})` : name.label);
    }),
  );
}

function formatIndex(key) {
  const index = formats.findIndex((format) => format.key === key);
  return index < 0 ? formats.length : index;
}

async function regenerate(pose, key, button) {
  if (button) button.disabled = true;
  try {
    const answer = await api(`${APP}/poses/${encodeURIComponent(pose.id)}/regenerate-export`, {
      method: "POST",
      body: { format: key },
    });
    pose.exports = { ...(pose.exports ?? {}), [answer.format]: answer.exportUrl };
    if (state.viewing === pose.id) renderViewer(pose);
    announce(t("generation.regenerated", { format: describeFormat(answer.format, formats).label }));
    viewer.exports.querySelector(`a[href="${CSS.escape(answer.exportUrl)}"]`)?.focus();
  } catch (error) {
    showFormError(viewer.background, error);
  } finally {
    if (button) button.disabled = false;
  }
}

viewer.addForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const pose = state.poses.get(state.viewing);
  if (pose && viewer.addSelect.value) regenerate(pose, viewer.addSelect.value, null);
});

function showModeField() {
  const mode = viewer.background.elements.mode.value;
  for (const field of viewer.background.querySelectorAll("[data-mode-field]")) {
    field.hidden = field.dataset.modeField !== mode;
  }
}
viewer.background.addEventListener("change", showModeField);

viewer.background.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = viewer.background;
  const pose = state.poses.get(state.viewing);
  if (!pose) return;
  clearFormError(form);
  const mode = form.elements.mode.value;
  const body = { backgroundMode: mode };
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    if (mode === "solid_color") {
      body.backgroundColor = form.elements.backgroundColor.value;
    } else if (mode === "upload") {
      const file = form.elements.backgroundUploadId.files[0];
      if (!file) {
        showFormError(form, t("generation.missingFile"));
        return;
      }
      const upload = new FormData();
      upload.append("file", file);
      body.backgroundUploadId = (await api(`${APP}/uploads`, { method: "POST", form: upload })).upload.id;
    } else {
      const prompt = form.elements.backgroundPrompt.value.trim();
      if (!prompt) {
        showFormError(form, t("generation.missingPrompt"));
        return;
      }
      body.backgroundPrompt = prompt;
    }
    const answer = await api(`${APP}/poses/${encodeURIComponent(pose.id)}/background`, { method: "POST", body });
    pose.background = { pending: true };
    renderTile(pose);
    ui.viewer.close();
    announce(t("generation.backgroundQueued", { count: formatNumber(answer.creditCharged) }));
    refreshBalance().catch(() => {});
  } catch (error) {
    showFormError(form, error);
  } finally {
    submit.disabled = false;
  }
});

start();
