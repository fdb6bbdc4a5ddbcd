// Admin: library management. Search the library, add a pose from keypoints (POST /admin/library:
// 18 [x, y, confidence] points, or the pose JSON an OpenPose tool wrote), edit a pose's text,
// category and flags (PUT), hide it (DELETE). Poses from photos arrive with issue 14.

import { APP, api, query } from "../../api.js";
import { announce, fill, h } from "../../dom.js";
import { t } from "../../i18n.js";
import { FormProblem, emptyRow, formDialog, renderPager, showError, urlParam } from "../../admin-kit.js";

const rows = document.querySelector("[data-rows]");
const pager = document.querySelector("[data-pager]");
const listError = document.querySelector("[data-list-error]");
const searchForm = document.querySelector("[data-search]");
const poseDialog = document.getElementById("pose-dialog");
const hideDialog = document.getElementById("hide-dialog");
const state = { search: urlParam("search"), page: 1 };
searchForm.elements.search.value = state.search;

function flags(pose) {
  return [
    pose.isFeatured ? h("span", { class: "badge accent" }, t("admin.library.featured")) : null,
    pose.isPremium ? h("span", { class: "badge warn" }, t("admin.library.premium")) : null,
  ];
}

function row(pose) {
  return h(
    "tr",
    { dataset: { poseId: pose.id } },
    h("td", { class: "thumb-cell" }, pose.thumbnailUrl ? h("img", { src: pose.thumbnailUrl, alt: "", width: 56, height: 56, loading: "lazy" }) : null),
    h("td", {}, h("span", { class: "tile-title" }, pose.name), h("br"), h("span", { class: "muted" }, pose.tags.join(", "))),
    h("td", {}, pose.category.name),
    h("td", {}, t(`admin.library.framings.${pose.framing}`)),
    h("td", {}, h("div", { class: "tile-meta" }, flags(pose))),
    h(
      "td",
      {},
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button", "aria-label": t("admin.library.editNamed", { name: pose.name }), onclick: () => openEdit(pose) }, t("admin.library.edit")),
        h("button", { type: "button", class: "button danger", "aria-label": t("admin.library.hideNamed", { name: pose.name }), onclick: () => openHide(pose) }, t("admin.library.hide")),
      ),
    ),
  );
}

async function load(page = state.page) {
  showError(listError, "");
  try {
    const result = await api(`${APP}/library${query({ search: state.search, page, limit: 20, sort: "newest" })}`);
    state.page = result.pagination.page;
    fill(rows, result.poses.length ? result.poses.map(row) : emptyRow(6, t("admin.library.noneFound")));
    renderPager(pager, result.pagination, load);
  } catch (error) {
    showError(listError, error);
  }
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  state.search = searchForm.elements.search.value.trim();
  load(1);
});

// --- categories for the form -------------------------------------------------------------------

async function loadCategories() {
  const tree = await api(`${APP}/categories`);
  const select = poseDialog.querySelector('[name="categoryId"]');
  const options = [];
  const walk = (nodes, trail) => {
    for (const node of nodes) {
      const name = trail ? `${trail} › ${node.name}` : node.name;
      options.push(h("option", { value: node.id }, name));
      walk(node.children, name);
    }
  };
  walk(tree.categories, "");
  fill(select, options);
}

// --- add and edit -------------------------------------------------------------------------------

let editing = null; // the pose being edited, or null when adding

/** The keypoints textarea as the body's `keypoints` (an array) or `poseJson` (an object). */
function keypointsBody(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FormProblem(t("admin.library.keypointsNotJson"), "keypoints");
  }
  if (Array.isArray(parsed)) return { keypoints: parsed };
  if (parsed && typeof parsed === "object") {
    // A pose as GET /library/{id} returns it ({format, points}) is taken as its points.
    if (Array.isArray(parsed.points)) return { keypoints: parsed.points };
    return { poseJson: parsed };
  }
  throw new FormProblem(t("admin.library.keypointsNotJson"), "keypoints");
}

function fields(form) {
  return {
    name: form.elements.name.value.trim(),
    description: form.elements.description.value.trim(),
    categoryId: form.elements.categoryId.value,
    tags: form.elements.tags.value
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean),
    difficulty: form.elements.difficulty.value,
    genderSuitability: form.elements.genderSuitability.value,
    framing: form.elements.framing.value,
    isFeatured: form.elements.isFeatured.checked,
    isPremium: form.elements.isPremium.checked,
  };
}

const openPoseDialog = formDialog(poseDialog, {
  async submit(form) {
    const body = fields(form);
    if (body.name.length < 2) throw new FormProblem(t("admin.library.nameMissing"), "name");
    if (body.description.length < 10) throw new FormProblem(t("admin.library.descriptionShort"), "description");
    if (editing) {
      return api(`${APP}/admin/library/${encodeURIComponent(editing.id)}`, { method: "PUT", body });
    }
    const text = form.elements.keypoints.value.trim();
    if (!text) throw new FormProblem(t("admin.library.keypointsMissing"), "keypoints");
    return api(`${APP}/admin/library`, { method: "POST", body: { ...body, ...keypointsBody(text) } });
  },
  async done(result) {
    announce(t(editing ? "admin.library.updated" : "admin.library.created", { name: result.pose.name }));
    await load(editing ? state.page : 1);
  },
});

function openAdd() {
  editing = null;
  openPoseDialog((form) => {
    form.querySelector("[data-title]").textContent = t("admin.library.addTitle");
    form.querySelector("[data-submit]").textContent = t("admin.library.create");
    form.querySelector("[data-keypoints-field]").hidden = false;
  });
}

function openEdit(pose) {
  editing = pose;
  openPoseDialog((form) => {
    form.querySelector("[data-title]").textContent = t("admin.library.editTitle", { name: pose.name });
    form.querySelector("[data-submit]").textContent = t("common.save");
    form.querySelector("[data-keypoints-field]").hidden = true; // a pose's figure is fixed once made
    form.elements.name.value = pose.name;
    form.elements.description.value = pose.description;
    form.elements.categoryId.value = pose.category.id;
    form.elements.tags.value = pose.tags.join(", ");
    form.elements.difficulty.value = pose.difficulty;
    form.elements.genderSuitability.value = pose.genderSuitability;
    form.elements.framing.value = pose.framing;
    form.elements.isFeatured.checked = pose.isFeatured;
    form.elements.isPremium.checked = pose.isPremium;
  });
}

// --- hide ---------------------------------------------------------------------------------------

let hiding = null;
const openHideDialog = formDialog(hideDialog, {
  submit: () => api(`${APP}/admin/library/${encodeURIComponent(hiding.id)}`, { method: "DELETE" }),
  async done() {
    announce(t("admin.library.hidden", { name: hiding.name }));
    await load();
  },
});

function openHide(pose) {
  hiding = pose;
  openHideDialog((form) => {
    form.querySelector("[data-title]").textContent = t("admin.library.hideNamed", { name: pose.name });
  });
}

document.querySelector("[data-add]").addEventListener("click", openAdd);
loadCategories().catch((error) => showError(listError, error));
load(1);
