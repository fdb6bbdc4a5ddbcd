// Pose from a photo: upload the photo (POST /uploads), find its pose (POST /poses/from-photo), show
// the detected skeleton over the photo, save it as the user's own pose (POST /library/custom), then
// put it in the tray and go to Generate.

import { api, APP, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { toggleTray, inTray } from "../tray.js";

const uploadForm = document.querySelector("[data-upload]");
const statusLine = document.querySelector("[data-status]");
const errorLine = document.querySelector("[data-error]");
const result = document.querySelector("[data-result]");
const saveBox = document.querySelector("[data-save-box]");
const saveForm = document.querySelector("[data-save]");
const saveError = document.querySelector("[data-save-error]");
const saved = document.querySelector("[data-saved]");

let keypoints = null; // what from-photo found: {format, points}
let pose = null; // the saved pose

function message(error) {
  return error instanceof ApiError ? error.text : String(error);
}

function busy(form, on) {
  for (const control of form.elements) control.disabled = on;
}

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorLine.textContent = "";
  const file = uploadForm.elements.file.files[0];
  if (!file) {
    errorLine.textContent = t("errors.VALIDATION_ERROR");
    uploadForm.elements.file.focus();
    return;
  }
  result.hidden = true;
  saveBox.hidden = true;
  saved.hidden = true;
  busy(uploadForm, true);
  try {
    statusLine.textContent = t("posePhoto.uploading");
    const form = new FormData();
    form.append("file", file);
    const { upload } = await api(`${APP}/uploads`, { method: "POST", form });
    statusLine.textContent = t("posePhoto.detecting");
    const found = await api(`${APP}/poses/from-photo`, { method: "POST", body: { uploadId: upload.id } });
    keypoints = found.keypoints;
    document.querySelector("[data-photo]").src = upload.url;
    document.querySelector("[data-skeleton]").src = found.controlMapUrl;
    saveForm.elements.framing.value = found.framing;
    result.hidden = false;
    saveBox.hidden = false;
    statusLine.textContent = t("posePhoto.found");
    saveForm.elements.name.focus();
  } catch (error) {
    statusLine.textContent = "";
    errorLine.textContent = message(error);
  } finally {
    busy(uploadForm, false);
  }
});

function tags(text) {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

saveForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  saveError.textContent = "";
  const name = saveForm.elements.name.value.trim();
  if (name.length < 2) {
    saveError.textContent = t("errors.VALIDATION_ERROR");
    saveForm.elements.name.setAttribute("aria-invalid", "true");
    saveForm.elements.name.focus();
    return;
  }
  saveForm.elements.name.removeAttribute("aria-invalid");
  const body = {
    name,
    keypoints,
    framing: saveForm.elements.framing.value,
    description: saveForm.elements.description.value.trim(),
    tags: tags(saveForm.elements.tags.value),
  };
  busy(saveForm, true);
  try {
    ({ pose } = await api(`${APP}/library/custom`, { method: "POST", body }));
    document.querySelector("[data-saved-text]").textContent = t("posePhoto.saved", { name: pose.name });
    saveBox.hidden = true;
    saved.hidden = false;
    saved.focus();
  } catch (error) {
    saveError.textContent = message(error);
  } finally {
    busy(saveForm, false);
  }
});

document.querySelector("[data-use]").addEventListener("click", () => {
  if (pose && !inTray(pose.id)) toggleTray(pose);
  window.location.assign("/generate");
});
