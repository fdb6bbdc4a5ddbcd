// Sign in, or create an account and sign it in; both set the HttpOnly session cookie.

import { api } from "../api.js";
import { clearFormError, showFormError } from "../dom.js";
import { t } from "../i18n.js";

const next = document.querySelector("[data-next]").value || "/library";

function wire(form, path, fields) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    const body = Object.fromEntries(fields.map((name) => [name, form.elements[name].value.trim()]));
    body.password = form.elements.password.value; // a password is taken as typed
    if (fields.some((name) => !body[name])) {
      showFormError(form, t("signin.missing"));
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await api(path, { method: "POST", body });
      window.location.assign(next);
    } catch (error) {
      showFormError(form, error);
      button.disabled = false;
    }
  });
}

wire(document.querySelector('[data-form="signin"]'), "/api/auth/session", ["email", "password"]);
wire(document.querySelector('[data-form="register"]'), "/api/auth/session/register", ["name", "email", "password"]);
