// The project fields shared by the new-project form (projects page) and the edit form (project
// page): reading them into an API body and filling them from a project.

export const ATTRIBUTES = [
  "gender",
  "ageRange",
  "ethnicity",
  "style",
  "bodyType",
  "hairStyle",
  "skinTone",
  "clothingColor",
  "headCovering",
];

/** `{gender: "female", …}` of the attributes filled in (blank ones left out: "not set"). */
export function readAttributes(form) {
  const attributes = {};
  for (const input of form.querySelectorAll("[data-attribute]")) {
    const value = input.value.trim();
    if (value) attributes[input.dataset.attribute] = value;
  }
  return attributes;
}

/** `{projectName, description, avatarAttributes}` of the form; description null when blank. */
export function readProject(form) {
  return {
    projectName: form.elements.projectName.value.trim(),
    description: form.elements.description.value.trim() || null,
    avatarAttributes: readAttributes(form),
  };
}

export function fillProject(form, project) {
  form.elements.projectName.value = project.projectName;
  form.elements.description.value = project.description ?? "";
  if (form.elements.status) form.elements.status.value = project.status;
  for (const input of form.querySelectorAll("[data-attribute]")) {
    input.value = project.avatarAttributes?.[input.dataset.attribute] ?? "";
  }
}

/** Focus the input an API field error names: `avatarAttributes.gender`, or its first part. */
export function focusField(form, field) {
  if (!field) return;
  const parts = field.split(".");
  for (let length = parts.length; length > 0; length -= 1) {
    const name = parts.slice(0, length).join(".");
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
  }
}
