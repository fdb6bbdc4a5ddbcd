// The page's message catalogue (embedded by the server as JSON) and number/date formatting.

const catalogue = JSON.parse(document.getElementById("messages").textContent);
const pageData = JSON.parse(document.getElementById("page-data").textContent);

export const lang = pageData.lang;
export const page = pageData;

/** The message `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = catalogue[key];
  if (text === undefined) {
    console.error(`missing message ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether the catalogue has `key` (for optional per-code messages). */
export function has(key) {
  return key in catalogue;
}

const locale = lang === "id" ? "id-ID" : "en-GB";
const numbers = new Intl.NumberFormat(locale);
const dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

export function formatNumber(value) {
  return numbers.format(value);
}

export function formatDate(iso) {
  return iso ? dates.format(new Date(iso)) : "";
}

/** "12 credits" in the page's language. */
export function formatCredits(count) {
  return t("common.credits", { count: formatNumber(count) });
}
