// Admin: the work queue. Its state (paused, counts), pause and resume, the reconciler's status and
// a button that runs it now, and the dead letters with a Requeue button each. Refreshed every few
// seconds while the tab is visible; a part is redrawn only when its data changed, so a refresh
// never takes the keyboard focus away.

import { APP, api, query } from "../../api.js";
import { announce, fill, h } from "../../dom.js";
import { t } from "../../i18n.js";
import { act, cell, emptyRow, every, facts, formatDate, formatNumber, renderPager, showError } from "../../admin-kit.js";

const REFRESH_SECONDS = 4;
const errorRegion = document.querySelector("[data-error]");
const badge = document.querySelector("[data-queue-badge]");
const queueFacts = document.querySelector("[data-queue-facts]");
const recoveryFacts = document.querySelector("[data-recovery-facts]");
const pauseButton = document.querySelector("[data-pause]");
const resumeButton = document.querySelector("[data-resume]");
const triggerButton = document.querySelector("[data-trigger]");
const triggerResult = document.querySelector("[data-trigger-result]");
const workersBody = document.querySelector("[data-workers]");
const deadBody = document.querySelector("[data-dead]");
const pager = document.querySelector("[data-pager]");
const deadHeading = document.getElementById("dead-heading");
const drawn = {};
let deadPage = 1;

/** Redraw part `name` only when `data` differs from what it shows. */
function changed(name, data) {
  const text = JSON.stringify(data);
  if (drawn[name] === text) return false;
  drawn[name] = text;
  return true;
}

function seconds(value) {
  return t("admin.queue.seconds", { count: formatNumber(Math.round(value)) });
}

function showQueue(queue) {
  if (!changed("queue", queue)) return;
  badge.textContent = queue.paused ? t("admin.queue.paused") : t("admin.queue.running");
  badge.className = queue.paused ? "badge warn" : "badge good";
  pauseButton.hidden = queue.paused;
  resumeButton.hidden = !queue.paused;
  fill(
    queueFacts,
    facts([
      [t("admin.queue.queued"), h("span", { dataset: { fact: "queued" } }, formatNumber(queue.queuedPoses))],
      [t("admin.queue.runningPoses"), h("span", { dataset: { fact: "running" } }, formatNumber(queue.runningPoses))],
      [t("admin.queue.stalled"), h("span", { dataset: { fact: "stalled" } }, formatNumber(queue.stalledPoses))],
      [t("admin.queue.dead"), h("span", { dataset: { fact: "dead" } }, formatNumber(queue.deadPoses))],
      [t("admin.queue.oldest"), seconds(queue.oldestQueuedAgeSeconds)],
    ]),
  );
}

function showRecovery(status) {
  const { workers, lastRecoveryRun: last } = status;
  if (changed("recovery", last)) {
    fill(
      recoveryFacts,
      last
        ? facts([
            [t("admin.queue.lastRun"), formatDate(last.at)],
            [t("admin.queue.recovered"), formatNumber(last.recovered)],
            [t("admin.queue.deadLettered"), formatNumber(last.deadLettered)],
          ])
        : h("p", { class: "muted" }, t("admin.queue.neverRun")),
    );
  }
  if (changed("workers", workers)) {
    fill(
      workersBody,
      workers.length
        ? workers.map((worker) =>
            h(
              "tr",
              {},
              cell(h("code", {}, worker.id)),
              cell(formatDate(worker.lastHeartbeatAt)),
              cell(formatNumber(worker.busySlots), { number: true }),
            ),
          )
        : emptyRow(3, t("admin.queue.noWorkers")),
    );
  }
}

function deadRow(pose) {
  const requeue = h("button", { type: "button", class: "button" }, t("admin.queue.requeue"));
  requeue.addEventListener("click", () =>
    act(
      requeue,
      errorRegion,
      async () => {
        await api(`${APP}/admin/dead-letter/${encodeURIComponent(pose.id)}/requeue`, { method: "POST" });
        await refresh();
        deadHeading.focus(); // the row and its button are gone: keep the keyboard near the list
      },
      t("admin.queue.requeued", { pose: pose.id }),
    ),
  );
  return h(
    "tr",
    { dataset: { poseId: pose.id } },
    cell([h("code", {}, pose.id), h("br"), h("span", { class: "muted" }, `${t("admin.queue.generation")} `, h("code", {}, pose.generationId))]),
    cell(pose.engine),
    cell(formatNumber(pose.attempts), { number: true }),
    cell(pose.errorMessage ?? ""),
    cell(formatDate(pose.deadLetteredAt)),
    cell(requeue),
  );
}

function showDead(result) {
  if (!changed("dead", result)) return;
  fill(deadBody, result.poses.length ? result.poses.map(deadRow) : emptyRow(6, t("admin.queue.noDead")));
  renderPager(pager, result.pagination, (page) => {
    deadPage = page;
    refresh();
  });
}

async function load() {
  try {
    const [queue, status, dead] = await Promise.all([
      api(`${APP}/admin/queue`),
      api(`${APP}/recovery/status`),
      api(`${APP}/admin/dead-letter${query({ page: deadPage, limit: 20 })}`),
    ]);
    showError(errorRegion, "");
    showQueue(queue);
    showRecovery(status);
    showDead(dead);
  } catch (error) {
    showError(errorRegion, error);
  }
}

const refresh = every(REFRESH_SECONDS, load);

pauseButton.addEventListener("click", () =>
  act(
    pauseButton,
    errorRegion,
    async () => {
      await api(`${APP}/admin/queue/pause`, { method: "POST" });
      await refresh();
      resumeButton.focus();
    },
    t("admin.queue.pausedSaid"),
  ),
);

resumeButton.addEventListener("click", () =>
  act(
    resumeButton,
    errorRegion,
    async () => {
      await api(`${APP}/admin/queue/resume`, { method: "POST" });
      await refresh();
      pauseButton.focus();
    },
    t("admin.queue.resumedSaid"),
  ),
);

triggerButton.addEventListener("click", async () => {
  const run = await act(triggerButton, errorRegion, () => api(`${APP}/recovery/trigger`, { method: "POST" }));
  if (!run) return;
  triggerResult.hidden = false;
  triggerResult.textContent = t("admin.queue.triggerResult", {
    recovered: formatNumber(run.recovered),
    deadLettered: formatNumber(run.deadLettered),
  });
  announce(triggerResult.textContent);
  await refresh();
});
