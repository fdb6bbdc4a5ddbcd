// What every signed-in page shares: the balance in the top bar, the menu on a phone and signing
// out. The language switcher is a plain form with an Apply button (choosing alone changes nothing:
// a page that reloads while someone moves through a list loses them).

import { api } from "./api.js";
import { formatCredits, t, page } from "./i18n.js";

/** Fetch the balance and show it wherever a page has `[data-balance]`; resolves to the balance body. */
export async function refreshBalance() {
  const balance = await api("/api/credits/balance");
  for (const element of document.querySelectorAll("[data-balance]")) {
    element.textContent = balance.unlimited?.active
      ? `${formatCredits(balance.balance)} · ${t("common.unlimited")}`
      : formatCredits(balance.balance);
  }
  return balance;
}

function wireMenu() {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

function wireSignOut() {
  const button = document.querySelector("[data-sign-out]");
  button?.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/api/auth/session", { method: "DELETE" });
    } finally {
      window.location.assign("/signin");
    }
  });
}

wireMenu();
wireSignOut();
if (page.user) refreshBalance().catch(() => {});
