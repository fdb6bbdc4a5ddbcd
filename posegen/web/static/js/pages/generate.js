// The Generate page: project, poses (the tray × variations per pose, or a description), engine and
// quality, background, export formats; the server's price and the balance before submitting; an
// idempotent submit (one Idempotency-Key per form state, so a double click or a retry of the same
// submission is charged once).

import { api, APP, ApiError, newIdempotencyKey, query } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatCredits, formatNumber, has, t } from "../i18n.js";
import { refreshBalance } from "../layout.js";
import { focusField } from "../project-form.js";
import { clearTray, removeFromTray, trayPoses } from "../tray.js";

// As POST /generate allows (outputFormats: at most 10).
const MAX_FORMATS = 10;
const QUOTE_DELAY_MS = 250;

const form = document.querySelector('[data-form="generate"]');
const projectSelect = form.elements.projectId;
const projectChoice = form.querySelector("[data-project-choice]");
const noProject = form.querySelector("[data-no-project]");
const trayList = form.querySelector("[data-tray]");
const submitButton = form.querySelector("[data-submit]");
const quoteStatus = form.querySelector("[data-quote-status]");
const formatsBox = form.querySelector("[data-formats]");
const preview = form.querySelector("[data-background-preview]");
const uploadError = form.querySelector("[data-upload-error]");
const quoteCells = Object.fromEntries(
  [...form.querySelectorAll("[data-quote]")].map((cell) => [cell.dataset.quote, cell]),
);

let backgroundUploadId = null;
let submission = { state: null, key: null }; // the Idempotency-Key of one form state
let inFlight = false;
let knownBalance = null; // shown while the form is not complete enough for a quote
let quoteTimer = null;
let quoteRequest = null;

const mode = () => form.elements.generationType.value;

// ---- what is sent ----------------------------------------------------------------------------

/** The /generate body of the form as it is now, or null with the reason the price cannot be asked. */
function requestBody() {
  if (!projectSelect.value) return { missing: "generate.chooseProjectFirst" };
  const body = {
    projectId: projectSelect.value,
    generationType: mode(),
    quality: form.elements.quality.value,
  };
  if (form.elements.engine.value) body.engine = form.elements.engine.value;
  if (body.generationType === "GALLERY_REFERENCE") {
    const poses = trayPoses();
    if (!poses.length) return { missing: "generate.pickFirst" };
    body.selectedPoseIds = poses.map((pose) => pose.id);
    body.batchSize = Number(form.elements.batchSize.value);
  } else {
    const prompt = form.elements.textPrompt.value.trim();
    if (prompt.length < 3) return { missing: "generate.describeFirst" };
    body.textPrompt = prompt;
    body.variationCount = Number(form.elements.variationCount.value);
  }
  if (form.elements.useBackgroundChanger.checked) {
    body.useBackgroundChanger = true;
    body.backgroundMode = form.elements.backgroundMode.value;
    if (body.backgroundMode === "solid_color") body.backgroundColor = form.elements.backgroundColor.value;
    if (body.backgroundMode === "ai_generate") body.backgroundPrompt = form.elements.backgroundPrompt.value.trim();
    if (body.backgroundMode === "upload" && backgroundUploadId) body.backgroundUploadId = backgroundUploadId;
  }
  body.outputFormats = [...formatsBox.querySelectorAll("input:checked")].map((box) => box.value);
  return { body };
}

// ---- the price ---------------------------------------------------------------------------------

function showQuote(quote) {
  quoteCells.poses.textContent = quote ? formatNumber(quote.posesTotal) : "–";
  quoteCells.price.textContent = quote ? formatCredits(quote.creditCost) : "–";
  if (quote) knownBalance = quote.balance;
  quoteCells.balance.textContent = knownBalance === null ? "–" : formatCredits(knownBalance);
  quoteCells.after.textContent = quote ? formatCredits(quote.balance - quote.creditCost) : "–";
  quoteCells.after.classList.toggle("short", Boolean(quote && quote.balance < quote.creditCost));
  if (!quote) {
    submitButton.textContent = t("generate.submit");
    return;
  }
  submitButton.textContent =
    quote.posesTotal === 1 ? t("generate.submitOne") : t("generate.submitCount", { count: formatNumber(quote.posesTotal) });
  if (quote.coveredByQuota) {
    quoteStatus.textContent = t("generate.coveredByQuota");
  } else if (quote.balance < quote.creditCost) {
    quoteStatus.textContent = t("generate.notEnough", {
      required: formatNumber(quote.creditCost),
      available: formatNumber(quote.balance),
    });
  } else {
    quoteStatus.textContent = "";
  }
}

/** Ask the server for the price of the form as it is now (the latest answer wins). */
async function updateQuote() {
  const { body, missing } = requestBody();
  quoteRequest?.abort();
  if (!body) {
    showQuote(null);
    quoteStatus.textContent = t(missing);
    return;
  }
  const controller = new AbortController();
  quoteRequest = controller;
  quoteStatus.textContent = t("generate.pricing");
  try {
    const quote = await api(`${APP}/generate/quote`, { method: "POST", body, signal: controller.signal });
    if (quoteRequest !== controller) return;
    showQuote(quote);
  } catch (error) {
    if (error.name === "AbortError" || quoteRequest !== controller) return;
    showQuote(null);
    quoteStatus.textContent = error instanceof ApiError ? error.text : t("errors.UNKNOWN");
  }
}

function quoteSoon() {
  clearTimeout(quoteTimer);
  quoteTimer = setTimeout(updateQuote, QUOTE_DELAY_MS);
}

// ---- projects ------------------------------------------------------------------------------------

function addProjectOption(project) {
  projectSelect.append(h("option", { value: project.id }, project.projectName));
}

async function loadProjects() {
  const wanted = new URLSearchParams(window.location.search).get("project");
  const { projects } = await api(`${APP}/projects${query({ status: "active", limit: 100 })}`);
  projects.forEach(addProjectOption);
  if (wanted && !projects.some((project) => project.id === wanted)) {
    // An archived project asked for by a link (its "Generate in this project").
    try {
      addProjectOption((await api(`${APP}/projects/${encodeURIComponent(wanted)}`)).project);
    } catch {
      // Not (or no longer) the caller's project: the first one stays chosen.
    }
  }
  if (wanted && [...projectSelect.options].some((option) => option.value === wanted)) projectSelect.value = wanted;
  const none = projectSelect.options.length === 0;
  projectChoice.hidden = none;
  noProject.hidden = !none;
}

form.querySelector("[data-create-project]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const input = form.elements.projectName;
  const errorRegion = form.querySelector("[data-project-error]");
  errorRegion.textContent = "";
  const name = input.value.trim();
  if (!name) {
    errorRegion.textContent = t("projects.missingName");
    input.focus();
    return;
  }
  button.disabled = true;
  try {
    const { project } = await api(`${APP}/projects`, { method: "POST", body: { projectName: name } });
    addProjectOption(project);
    projectSelect.value = project.id;
    projectChoice.hidden = false;
    noProject.hidden = true;
    projectSelect.focus();
    announce(t("generate.projectCreated"));
    quoteSoon();
  } catch (error) {
    errorRegion.textContent = error.text ?? t("errors.UNKNOWN");
  } finally {
    button.disabled = false;
  }
});

// ---- the tray ------------------------------------------------------------------------------------

function trayItem(pose) {
  const image = h("img", { src: pose.thumbnailUrl, alt: "", width: 64, height: 64, loading: "lazy" });
  // Signed thumbnail URLs expire; one fresh URL from the library when the stored one no longer loads.
  image.addEventListener(
    "error",
    async () => {
      try {
        const { pose: fresh } = await api(`${APP}/library/${encodeURIComponent(pose.id)}`);
        image.src = fresh.thumbnailUrl;
      } catch {
        // The pose is gone from the library: /generate will name it.
      }
    },
    { once: true },
  );
  return h(
    "li",
    { class: "tray-item" },
    image,
    h("span", { class: "tray-name" }, pose.name),
    h(
      "button",
      {
        type: "button",
        class: "button subtle",
        // Seen as "Remove" next to the pose's name; heard as "Remove <name>".
        "aria-label": t("generate.remove", { name: pose.name }),
        onclick: () => {
          removeFromTray(pose.id);
          announce(t("generate.removed", { name: pose.name }));
          form.querySelector("[data-tray-heading]").focus();
        },
      },
      t("generate.removeShort"),
    ),
  );
}

function showTray() {
  const poses = trayPoses();
  fill(trayList, poses.map(trayItem));
  trayList.hidden = poses.length === 0;
  form.querySelector("[data-tray-empty]").hidden = poses.length > 0;
  form.querySelector("[data-tray-more]").hidden = poses.length === 0;
}

window.addEventListener("tray-changed", () => {
  showTray();
  quoteSoon();
});
// Another tab's library changed the tray (sessionStorage is per tab, but a restored tab shares it).
window.addEventListener("storage", (event) => {
  if (event.key === "posegen.tray") {
    showTray();
    quoteSoon();
  }
});

// ---- engines, formats, background ---------------------------------------------------------------

const engineDetails = new Map();

/** Every engine; those that cannot take work now are listed but disabled, so people see what exists. */
async function loadEngines() {
  const { engines } = await api(`${APP}/engines`);
  const available = engines.filter((engine) => engine.available);
  engineDetails.clear();
  for (const engine of engines) engineDetails.set(engine.name, engine);
  const ordered = [...available, ...engines.filter((engine) => !engine.available)];
  fill(
    form.elements.engine,
    ordered.map((engine) => {
      const name = has(`generate.engineName.${engine.name}`) ? t(`generate.engineName.${engine.name}`) : engine.name;
      return h(
        "option",
        { value: engine.name, disabled: !engine.available, dataset: { qualities: engine.qualities.join(" ") } },
        engine.available ? name : t("generate.engineOff", { engine: name }),
      );
    }),
  );
  form.querySelector("[data-no-engines]").hidden = available.length > 0;
  limitQualities();
  describeEngine();
}

/** Whether the chosen engine takes the pose itself (its control map) or only the words, and how many
 * of its servers are up. */
function describeEngine() {
  const about = form.querySelector("[data-engine-about]");
  const engine = engineDetails.get(form.elements.engine.value);
  if (!engine) {
    about.textContent = "";
    return;
  }
  const parts = [t(engine.supportsControlImage ? "generate.takesPose" : "generate.wordsOnly")];
  if (engine.servers) {
    const up = engine.servers.filter((server) => server.available).length;
    parts.push(t("generate.serversUp", { up, total: engine.servers.length }));
  }
  if (engine.model) parts.push(t("generate.modelOn", { model: engine.model.baseModel, device: engine.model.device }));
  about.textContent = parts.join(" ");
}

/** Offer only the qualities the chosen engine has. */
function limitQualities() {
  const option = form.elements.engine.selectedOptions[0];
  const qualities = option?.dataset.qualities?.split(" ") ?? null;
  const select = form.elements.quality;
  for (const quality of select.options) quality.disabled = Boolean(qualities) && !qualities.includes(quality.value);
  if (select.selectedOptions[0]?.disabled) {
    const first = [...select.options].find((quality) => !quality.disabled);
    if (first) select.value = first.value;
  }
}

async function loadFormats() {
  const { formats } = await api(`${APP}/export-formats`);
  form.querySelector("[data-formats-hint]").textContent = t("generate.formatsHint", { max: MAX_FORMATS });
  fill(
    formatsBox,
    formats.map((format) => {
      const id = `generate-format-${format.key}`;
      const name = has(`generate.format.${format.key}`) ? t(`generate.format.${format.key}`) : format.key;
      const size = format.width ? t("generate.formatSize", { width: format.width, height: format.height }) : "";
      return h(
        "label",
        { class: "check format-option", for: id },
        h("input", { type: "checkbox", id, name: "outputFormats", value: format.key }),
        h("span", {}, name, size ? h("span", { class: "muted format-size" }, ` ${size}`) : null),
      );
    }),
  );
}

function limitFormats() {
  const boxes = [...formatsBox.querySelectorAll("input")];
  const full = boxes.filter((box) => box.checked).length >= MAX_FORMATS;
  for (const box of boxes) box.disabled = full && !box.checked;
  form.querySelector("[data-formats-hint]").textContent = t(full ? "generate.formatsFull" : "generate.formatsHint", {
    max: MAX_FORMATS,
  });
}

function showPanels() {
  for (const panel of form.querySelectorAll("[data-mode-panel]")) panel.hidden = panel.dataset.modePanel !== mode();
  const background = form.elements.useBackgroundChanger.checked;
  form.querySelector("[data-background]").hidden = !background;
  for (const panel of form.querySelectorAll("[data-background-panel]")) {
    panel.hidden = panel.dataset.backgroundPanel !== form.elements.backgroundMode.value;
  }
}

async function uploadBackground(file) {
  uploadError.textContent = "";
  backgroundUploadId = null;
  preview.hidden = true;
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  try {
    const { upload } = await api(`${APP}/uploads`, { method: "POST", form: data });
    backgroundUploadId = upload.id;
    preview.src = upload.url;
    preview.hidden = false;
    announce(t("generate.backgroundUploaded"));
  } catch (error) {
    uploadError.textContent = error.text ?? t("errors.UNKNOWN");
  }
  quoteSoon();
}

// ---- submitting ----------------------------------------------------------------------------------

function showError(error) {
  showFormError(form, error);
  if (error.field?.startsWith("selectedPoseIds")) {
    form.querySelector("[data-tray-heading]").focus();
  } else if (!form.querySelector(`[name="${CSS.escape(error.field ?? "")}"]`)) {
    focusField(form, error.field);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (inFlight) return;
  clearFormError(form);
  const { body, missing } = requestBody();
  if (!body) {
    showFormError(form, { text: t(missing) });
    return;
  }
  // One key per form state: the same submission sent again (double click, retry after a lost
  // answer) carries the same key and is charged once; any change to the form is a new submission.
  const state = JSON.stringify(body);
  if (submission.state !== state) submission = { state, key: newIdempotencyKey() };
  inFlight = true;
  submitButton.disabled = true;
  const label = submitButton.textContent;
  submitButton.textContent = t("generate.submitting");
  try {
    const accepted = await api(`${APP}/generate`, { method: "POST", body, idempotencyKey: submission.key });
    if (body.generationType === "GALLERY_REFERENCE") clearTray();
    announce(t("generate.submitted"));
    window.location.assign(`/generations/${encodeURIComponent(accepted.generationId)}`);
    return;
  } catch (error) {
    if (error.code === "IDEMPOTENCY_KEY_REUSED") submission = { state: null, key: null };
    showError(error);
    quoteSoon(); // the quote brings the balance as it is now
  } finally {
    inFlight = false;
  }
  submitButton.disabled = false;
  submitButton.textContent = label;
});

form.addEventListener("input", (event) => {
  if (event.target.name === "backgroundUploadId") return; // handled on change (upload first)
  if (event.target.name === "outputFormats") limitFormats();
  if (event.target.name === "engine") {
    limitQualities();
    describeEngine();
  }
  showPanels();
  quoteSoon();
});
form.addEventListener("change", (event) => {
  if (event.target.name === "backgroundUploadId") uploadBackground(event.target.files[0]);
});

showPanels();
showTray();
const balanceLoaded = refreshBalance()
  .then((answer) => {
    knownBalance = answer.balance;
  })
  .catch(() => {});
Promise.all([loadProjects(), loadEngines(), loadFormats(), balanceLoaded])
  .catch((error) => showFormError(form, error))
  .finally(updateQuote);
