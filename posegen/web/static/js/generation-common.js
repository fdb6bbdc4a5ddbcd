// What the generations list and the generation page share: status badges and export format names.

import { api, APP } from "./api.js";
import { has, t } from "./i18n.js";

const GENERATION_TONE = {
  queued: "accent",
  processing: "accent",
  completed: "good",
  partial: "warn",
  failed: "bad",
  canceled: "bad",
};
const POSE_TONE = { queued: "", running: "accent", completed: "good", failed: "bad", canceled: "warn" };
const POSE_WORD = {
  queued: "generation.queued",
  running: "generation.running",
  completed: "generation.completedPose",
  failed: "generation.failedPose",
  canceled: "generation.canceledPose",
};

/** Give `element` the badge look and words of a generation's status (or a pose's, when `pose`). */
export function statusBadge(element, status, pose = false) {
  const key = pose ? POSE_WORD[status] : `generations.status.${status}`;
  element.textContent = key && has(key) ? t(key) : status;
  const tone = (pose ? POSE_TONE : GENERATION_TONE)[status] ?? "";
  element.className = `badge gen-badge${tone ? ` ${tone}` : ""}`;
  return element;
}

let formatsPromise = null;

/** The export presets (GET /export-formats), fetched once per page. */
export function loadFormats() {
  formatsPromise ??= api(`${APP}/export-formats`).then((answer) => answer.formats);
  return formatsPromise;
}

/** {label, size} of an export preset key: the page's own name for it and "W × H" when known. */
export function describeFormat(key, formats) {
  const label = has(`generation.format.${key}`) ? t(`generation.format.${key}`) : key;
  const format = formats.find((candidate) => candidate.key === key);
  const size =
    format?.width && format?.height ? t("generation.formatSize", { width: format.width, height: format.height }) : "";
  return { label, size };
}
