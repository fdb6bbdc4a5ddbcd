// The library: the category tree, search and filters over GET /library (or the favourites),
// pose tiles that pick poses into the tray, a favourite toggle, and the pose detail dialog (where
// the owner of a pose made from a photo may delete it, after a confirmation).
// The filters live in the page's URL (replaceState), so coming back from Generate restores them.

import { api, APP, ApiError, query } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { clearTray, inTray, removeFromTray, toggleTray, trayPoses, TRAY_LIMIT } from "../tray.js";

const LIMIT = 24;
const SEARCH_DELAY_MS = 300;
const FILTERS = ["difficulty", "framing", "genderSuitability", "premium", "sort"];

const form = document.querySelector("[data-filters]");
const grid = document.querySelector("[data-grid]");
const countLine = document.querySelector("[data-count]");
const errorLine = document.querySelector("[data-error]");
const emptyLine = document.querySelector("[data-empty]");
const pager = document.querySelector("[data-pager]");
const categoryList = document.querySelector("[data-categories]");
const detail = document.querySelector("[data-detail]");
const confirmDelete = document.querySelector("[data-delete-confirm]");

/** The view with no filter: the first page of every pose, most popular first. */
const DEFAULT_STATE = Object.freeze({
  category: "",
  search: "",
  difficulty: "",
  framing: "",
  genderSuitability: "",
  premium: "",
  sort: "popular",
  featured: false,
  favorites: false,
  mine: false,
  page: 1,
});
/** What is shown: read from the URL at start, written back on every change. */
const state = { ...DEFAULT_STATE };
let categories = [];
let shownPoses = [];
let loading = null; // the AbortController of the list request in flight

// --- state <-> URL and form ------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  for (const name of ["category", "search", ...FILTERS]) {
    if (params.has(name)) state[name] = params.get(name);
  }
  state.featured = params.get("featured") === "true";
  state.favorites = params.get("favorites") === "true";
  state.mine = params.get("mine") === "true";
  state.page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
}

function writeUrl() {
  const params = {
    category: state.category,
    search: state.search,
    ...Object.fromEntries(FILTERS.map((name) => [name, state[name]])),
    featured: state.featured ? "true" : "",
    favorites: state.favorites ? "true" : "",
    mine: state.mine ? "true" : "",
    page: state.page > 1 ? state.page : "",
  };
  if (params.sort === "popular") params.sort = "";
  window.history.replaceState(null, "", `${window.location.pathname}${query(params)}`);
}

function stateToForm() {
  form.elements.search.value = state.search;
  for (const name of FILTERS) form.elements[name].value = state[name];
  if (!form.elements.sort.value) form.elements.sort.value = "popular";
  form.elements.featured.checked = state.featured;
  form.elements.favorites.checked = state.favorites;
  form.elements.mine.checked = state.mine;
  showFavoritesMode();
}

function showFavoritesMode() {
  document.querySelector("[data-filter-set]").disabled = state.favorites;
  form.elements.search.disabled = state.favorites;
  document.querySelector("[data-favorites-hint]").hidden = !state.favorites;
  form.elements.mine.disabled = state.favorites;
  document.querySelector("[data-mine-hint]").hidden = !state.mine || state.favorites;
  for (const button of categoryList.querySelectorAll("button")) button.disabled = state.favorites;
}

// --- categories ------------------------------------------------------------------------------

function categoryButton(slug, name, count) {
  return h(
    "button",
    {
      type: "button",
      class: "category-button",
      "aria-pressed": String(state.category === slug),
      "data-category": slug,
      onclick: () => {
        state.category = slug;
        state.page = 1;
        markCategory();
        load();
      },
    },
    h("span", { class: "category-name" }, name),
    " ",
    h("span", { class: "category-count" }, t("library.categoryCount", { count: formatNumber(count) })),
  );
}

function categoryItems(nodes) {
  return nodes.map((node) =>
    h(
      "li",
      {},
      categoryButton(node.slug, node.name, node.poseCount),
      node.children?.length ? h("ul", {}, categoryItems(node.children)) : null,
    ),
  );
}

async function loadCategories() {
  try {
    const body = await api(`${APP}/categories`);
    categories = body.categories;
    const total = categories.reduce((sum, node) => sum + node.poseCount, 0);
    fill(categoryList, h("li", {}, categoryButton("", t("library.allPoses"), total)), categoryItems(categories));
    showFavoritesMode();
  } catch (error) {
    fill(categoryList, h("li", { class: "form-error" }, error instanceof ApiError ? error.text : String(error)));
  }
}

function markCategory() {
  for (const button of categoryList.querySelectorAll("[data-category]")) {
    button.setAttribute("aria-pressed", String(button.dataset.category === state.category));
  }
}

// --- the grid --------------------------------------------------------------------------------

function label(table, value) {
  return t(`library.${table}.${value}`);
}

function badges(pose) {
  return [
    pose.isMine ? h("span", { class: "badge accent" }, t("library.mine")) : null,
    pose.isPremium ? h("span", { class: "badge warn" }, t("library.premium")) : null,
    pose.isFeatured ? h("span", { class: "badge accent" }, t("library.featured")) : null,
    h("span", { class: "badge" }, label("difficulty", pose.difficulty)),
    h("span", { class: "badge" }, label("framing", pose.framing)),
  ];
}

const CHECK = () =>
  h(
    "svg:svg",
    { class: "pick-mark", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    h("svg:circle", { cx: "12", cy: "12", r: "11", fill: "currentColor" }),
    h("svg:path", { d: "M6.5 12.5l3.5 3.5 7.5-8", fill: "none", stroke: "#fff", "stroke-width": "2.6" }),
  );

const HEART = () =>
  h(
    "svg:svg",
    { class: "heart", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    h("svg:path", {
      d: "M12 21s-7.5-4.6-9.6-9.2C.9 8.4 3 4.5 6.8 4.5c2.2 0 3.9 1.3 5.2 3 1.3-1.7 3-3 5.2-3 3.8 0 5.9 3.9 4.4 7.3C19.5 16.4 12 21 12 21z",
    }),
  );

function tile(pose) {
  const picked = inTray(pose.id);
  return h(
    "li",
    { class: `tile pose-tile${picked ? " selected" : ""}`, "data-pose-id": pose.id },
    // The one control named exactly as the pose: it picks the pose into the tray (or out again).
    h(
      "button",
      {
        type: "button",
        class: "tile-pick",
        "aria-pressed": String(picked),
        "data-pick": pose.id,
        onclick: () => pick(pose),
      },
      h(
        "span",
        { class: "tile-media" },
        pose.thumbnailUrl ? h("img", { src: pose.thumbnailUrl, alt: "", loading: "lazy", width: 256, height: 256 }) : null,
        CHECK(),
      ),
      h("span", { class: "tile-title" }, pose.name),
    ),
    h(
      "div",
      { class: "tile-body" },
      h("div", { class: "tile-meta" }, badges(pose)),
      // Room for more per-pose state later (a score, "mine", progress).
      h("div", { class: "tile-extra", "data-tile-extra": "" }),
      h(
        "div",
        { class: "tile-actions" },
        h(
          "button",
          {
            type: "button",
            class: "button subtle small",
            "aria-label": t("library.detailsFor", { name: pose.name }),
            "aria-haspopup": "dialog",
            "data-details": pose.id,
            onclick: (event) => openDetail(pose, event.currentTarget),
          },
          t("library.details"),
        ),
        h(
          "button",
          {
            type: "button",
            class: "button subtle small favorite-toggle",
            "aria-pressed": String(pose.isFavorite),
            "aria-label": t("library.favoriteFor", { name: pose.name }),
            "data-favorite": pose.id,
            onclick: () => setFavorite(pose, !pose.isFavorite),
          },
          HEART(),
        ),
      ),
    ),
  );
}

function showCount(total) {
  countLine.textContent = total === 1 ? t("library.countOne") : t("library.count", { count: formatNumber(total) });
}

async function load() {
  writeUrl();
  loading?.abort();
  const controller = new AbortController();
  loading = controller;
  grid.setAttribute("aria-busy", "true");
  errorLine.textContent = "";
  const path = state.favorites
    ? `${APP}/favorites${query({ page: state.page, limit: LIMIT })}`
    : `${APP}/library${query({
        category: state.category,
        search: state.search.trim().length >= 2 ? state.search.trim() : "",
        ...Object.fromEntries(FILTERS.map((name) => [name, state[name]])),
        featured: state.featured ? "true" : "",
        mine: state.mine ? "true" : "",
        page: state.page,
        limit: LIMIT,
      })}`;
  try {
    const body = await api(path, { signal: controller.signal });
    if (loading !== controller) return;
    const { poses, pagination } = body;
    if (poses.length === 0 && pagination.page > 1 && pagination.totalPages >= 1) {
      // The page ran past the end (a favourite removed, say): show the last one instead.
      state.page = pagination.totalPages;
      load();
      return;
    }
    shownPoses = poses;
    fill(grid, poses.map(tile));
    showCount(pagination.total);
    emptyLine.hidden = poses.length > 0;
    emptyLine.textContent = state.favorites
      ? t("library.noFavorites")
      : state.mine
        ? t("library.noMine")
        : t("library.noResults");
    showPager(pagination);
  } catch (error) {
    if (error.name === "AbortError") return;
    errorLine.textContent = error instanceof ApiError ? error.text : String(error);
  } finally {
    if (loading === controller) grid.setAttribute("aria-busy", "false");
  }
}

function showPager(pagination) {
  pager.hidden = pagination.totalPages <= 1;
  pager.querySelector("[data-page-label]").textContent = t("common.pageOf", {
    page: formatNumber(pagination.page),
    pages: formatNumber(Math.max(1, pagination.totalPages)),
  });
  pager.querySelector("[data-page-prev]").disabled = pagination.page <= 1;
  pager.querySelector("[data-page-next]").disabled = !pagination.hasMore;
}

function turnPage(delta) {
  state.page = Math.max(1, state.page + delta);
  load().then(() => document.getElementById("results-heading").scrollIntoView({ block: "start" }));
}

// --- picking and the tray --------------------------------------------------------------------

function pick(pose) {
  const wasIn = inTray(pose.id);
  if (!toggleTray(pose)) {
    announce(t("library.trayFull", { limit: TRAY_LIMIT }));
    return;
  }
  announce(t(wasIn ? "library.unpickedName" : "library.pickedName", { name: pose.name }));
}

function markPicked() {
  const ids = new Set(trayPoses().map((pose) => pose.id));
  for (const button of grid.querySelectorAll("[data-pick]")) {
    const picked = ids.has(button.dataset.pick);
    button.setAttribute("aria-pressed", String(picked));
    button.closest(".tile").classList.toggle("selected", picked);
  }
  if (detail.open && detail.pose) showDetailTray(detail.pose);
}

function renderTray() {
  const poses = trayPoses();
  const count = poses.length;
  document.querySelector("[data-tray-count]").textContent =
    count === 0 ? "" : count === 1 ? t("library.trayCountOne") : t("library.trayCount", { count: formatNumber(count) });
  document.querySelector("[data-tray-empty]").hidden = count > 0;
  document.querySelector("[data-tray-clear]").hidden = count === 0;
  const next = document.querySelector("[data-tray-continue]");
  next.hidden = count === 0;
  next.textContent = count === 1 ? t("library.trayContinueOne") : t("library.trayContinue", { count: formatNumber(count) });
  fill(
    document.querySelector("[data-tray-list]"),
    poses.map((pose) =>
      h(
        "li",
        { class: "tray-item" },
        pose.thumbnailUrl ? h("img", { src: pose.thumbnailUrl, alt: "", width: 40, height: 40 }) : null,
        h("span", { class: "tray-name" }, pose.name),
        h(
          "button",
          {
            type: "button",
            class: "tray-remove",
            "aria-label": t("library.trayRemove", { name: pose.name }),
            onclick: () => {
              removeFromTray(pose.id);
              announce(t("library.unpickedName", { name: pose.name }));
              focusTrayHeading();
            },
          },
          h("span", { "aria-hidden": "true" }, "×"),
        ),
      ),
    ),
  );
}

document.querySelector("[data-tray-clear]").addEventListener("click", () => {
  clearTray();
  announce(t("library.trayCleared"));
  focusTrayHeading();
});

/** After the focused control went away with its pose: keep the keyboard user in the tray. */
function focusTrayHeading() {
  const heading = document.getElementById("tray-heading");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

window.addEventListener("tray-changed", () => {
  renderTray();
  markPicked();
});

// --- favourites ------------------------------------------------------------------------------

async function setFavorite(pose, on) {
  try {
    const result = await api(`${APP}/library/${encodeURIComponent(pose.id)}/favorite`, {
      method: on ? "POST" : "DELETE",
    });
    pose.isFavorite = result.isFavorite;
    pose.favoriteCount = result.favoriteCount;
    for (const button of document.querySelectorAll(`[data-favorite="${CSS.escape(pose.id)}"]`)) {
      button.setAttribute("aria-pressed", String(pose.isFavorite));
    }
    if (detail.pose?.id === pose.id) detail.querySelector("[data-detail-favorite]").setAttribute("aria-pressed", String(pose.isFavorite));
    const shown = shownPoses.find((item) => item.id === pose.id);
    if (shown && shown !== pose) shown.isFavorite = pose.isFavorite;
    announce(t(on ? "library.favoriteAdded" : "library.favoriteRemoved", { name: pose.name }));
    if (state.favorites && !on && !detail.open) load();
  } catch (error) {
    announce(error instanceof ApiError ? error.text : String(error));
  }
}

// --- the detail dialog -----------------------------------------------------------------------

function showDetailTray(pose) {
  detail.querySelector("[data-detail-tray]").textContent = inTray(pose.id)
    ? t("library.removeFromTray")
    : t("library.addToTray");
}

function setImage(img, url, alt) {
  img.alt = alt;
  if (url) img.src = url;
  else img.removeAttribute("src");
}

async function openDetail(pose, opener) {
  detail.opener = opener;
  detail.pose = pose;
  fillDetail(pose);
  detail.querySelector("[data-detail-error]").textContent = "";
  if (!detail.open) detail.showModal();
  try {
    const body = await api(`${APP}/library/${encodeURIComponent(pose.id)}`);
    if (detail.pose !== pose) return;
    // Keep the list's object (the tile's favourite state) and take the detail's fresh fields.
    Object.assign(pose, body.pose);
    fillDetail(pose);
  } catch (error) {
    detail.querySelector("[data-detail-error]").textContent = error instanceof ApiError ? error.text : String(error);
  }
}

function fillDetail(pose) {
  detail.querySelector("[data-detail-title]").textContent = pose.name;
  setImage(detail.querySelector("[data-detail-preview]"), pose.previewUrl, t("library.preview", { name: pose.name }));
  setImage(detail.querySelector("[data-detail-control]"), pose.controlMapUrl, t("library.controlMap", { name: pose.name }));
  fill(detail.querySelector("[data-detail-badges]"), badges(pose));
  detail.querySelector("[data-detail-description]").textContent = pose.description;
  detail.querySelector("[data-detail-category]").textContent = pose.category?.name ?? "";
  detail.querySelector("[data-detail-difficulty]").textContent = label("difficulty", pose.difficulty);
  detail.querySelector("[data-detail-framing]").textContent = label("framing", pose.framing);
  detail.querySelector("[data-detail-gender]").textContent = label("gender", pose.genderSuitability);
  fill(
    detail.querySelector("[data-detail-tags]"),
    (pose.tags ?? []).map((tag) => h("li", { class: "badge" }, tag)),
  );
  detail.querySelector("[data-detail-favorite]").setAttribute("aria-pressed", String(pose.isFavorite));
  const remove = detail.querySelector("[data-detail-delete]");
  remove.hidden = !pose.isMine;
  remove.setAttribute("aria-label", t("library.deletePoseFor", { name: pose.name }));
  showDetailTray(pose);
}

detail.querySelector("[data-detail-favorite]").prepend(HEART(), " ");
detail.querySelector("[data-detail-close]").addEventListener("click", () => detail.close());
detail.querySelector("[data-detail-tray]").addEventListener("click", () => detail.pose && pick(detail.pose));
detail.querySelector("[data-detail-favorite]").addEventListener(
  "click",
  () => detail.pose && setFavorite(detail.pose, !detail.pose.isFavorite),
);
detail.addEventListener("click", (event) => {
  if (event.target === detail) detail.close(); // a click on the backdrop
});

// --- deleting one's own pose -------------------------------------------------------------------

detail.querySelector("[data-detail-delete]").addEventListener("click", () => {
  if (!detail.pose?.isMine) return;
  confirmDelete.pose = detail.pose;
  clearFormError(confirmDelete);
  confirmDelete.querySelector("[data-confirm-text]").textContent = t("library.deleteText", { name: detail.pose.name });
  confirmDelete.querySelector("[data-confirm-delete]").disabled = false;
  confirmDelete.showModal();
});
for (const button of confirmDelete.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => confirmDelete.close());
}
confirmDelete.querySelector("[data-confirm-delete]").addEventListener("click", async (event) => {
  const pose = confirmDelete.pose;
  const button = event.currentTarget;
  if (!pose) return;
  button.disabled = true;
  clearFormError(confirmDelete);
  try {
    await api(`${APP}/library/custom/${encodeURIComponent(pose.id)}`, { method: "DELETE" });
  } catch (error) {
    showFormError(confirmDelete, error);
    button.disabled = false;
    return;
  }
  // A deleted pose can no longer be generated from: it leaves the tray too.
  if (inTray(pose.id)) removeFromTray(pose.id);
  confirmDelete.close();
  // Its tile goes away with it: focus moves to the results below, not back to the tile.
  detail.opener = null;
  detail.pose = null;
  detail.close();
  announce(t("library.deleted", { name: pose.name }));
  await load();
  document.getElementById("results-heading").setAttribute("tabindex", "-1");
  document.getElementById("results-heading").focus();
});
detail.addEventListener("close", () => {
  // Back to the control that opened the dialog, or its successor when the grid was redrawn since.
  const id = detail.pose?.id;
  detail.pose = null;
  const opener = detail.opener?.isConnected
    ? detail.opener
    : id && grid.querySelector(`[data-details="${CSS.escape(id)}"]`);
  opener?.focus();
});

// --- the form --------------------------------------------------------------------------------

let searchTimer = null;
form.elements.search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const next = form.elements.search.value;
    const meaningful = (text) => (text.trim().length >= 2 ? text.trim() : "");
    const changed = meaningful(next) !== meaningful(state.search);
    state.search = next;
    if (changed) {
      state.page = 1;
      load();
    } else {
      writeUrl();
    }
  }, SEARCH_DELAY_MS);
});

form.addEventListener("change", (event) => {
  const name = event.target.name;
  if (name === "search") return;
  if (name === "featured" || name === "favorites" || name === "mine") state[name] = event.target.checked;
  else if (FILTERS.includes(name)) state[name] = event.target.value;
  else return;
  state.page = 1;
  if (name === "favorites" || name === "mine") showFavoritesMode();
  load();
});

form.addEventListener("submit", (event) => {
  // Enter in the search box searches at once.
  event.preventDefault();
  clearTimeout(searchTimer);
  state.search = form.elements.search.value;
  state.page = 1;
  load();
});

form.addEventListener("reset", (event) => {
  event.preventDefault();
  Object.assign(state, DEFAULT_STATE);
  stateToForm();
  markCategory();
  load();
});

pager.querySelector("[data-page-prev]").addEventListener("click", () => turnPage(-1));
pager.querySelector("[data-page-next]").addEventListener("click", () => turnPage(1));

// On a phone the category tree starts folded, so the poses come first.
const phone = window.matchMedia("(max-width: 720px)");
const categoriesBox = document.querySelector("[data-categories-box]");
categoriesBox.open = !phone.matches;
phone.addEventListener("change", () => {
  categoriesBox.open = !phone.matches;
});

readUrl();
stateToForm();
renderTray();
loadCategories();
load();
