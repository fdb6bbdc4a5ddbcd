// Admin: metrics. GET /metrics answers with the totals of one window (no series), so the summary
// follows the chosen period and the charts over time ask for each of the last DAYS UTC days
// (`startDate=endDate=<day>`, one request per day). Errors by code, top users and popular poses
// follow the chosen period.

import { APP, api, query } from "../../api.js";
import { fill, h } from "../../dom.js";
import { lang, t } from "../../i18n.js";
import { barChart, categoryChart, lineChart } from "../../admin-charts.js";
import { cell, emptyRow, formatNumber, showError } from "../../admin-kit.js";

const DAYS = 14;
const form = document.querySelector("[data-period-form]");
const errorRegion = document.querySelector("[data-error]");
const summary = document.querySelector("[data-summary]");
const charts = document.querySelector("[data-charts]");
const topUsers = document.querySelector("[data-top-users]");
const popular = document.querySelector("[data-popular]");
const locale = lang === "id" ? "id-ID" : "en-GB";
const dayLabel = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" });
const percent = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });

const asPercent = (value) => `${percent.format(value)}%`;
const asSeconds = (ms) => t("admin.metrics.secondsShort", { value: decimal.format(ms / 1000) });

function tile(label, value, detail) {
  return h("div", { class: "metric-tile card" }, h("p", { class: "metric-label" }, label), h("p", { class: "metric-value" }, value), detail ? h("p", { class: "hint" }, detail) : null);
}

function showSummary(m) {
  const times = m.avgGenerationTimeMs;
  fill(
    summary,
    tile(t("admin.metrics.generationsTotal"), formatNumber(m.totalGenerations), t("admin.metrics.generationsDetail", {
      completed: formatNumber(m.completedGenerations),
      partial: formatNumber(m.partialGenerations),
      failed: formatNumber(m.failedGenerations),
      canceled: formatNumber(m.canceledGenerations),
    })),
    tile(t("admin.metrics.posesGenerated"), formatNumber(m.totalPosesGenerated), m.avgPosesPerGeneration === null ? null : t("admin.metrics.perGeneration", { value: decimal.format(m.avgPosesPerGeneration) })),
    tile(t("admin.metrics.successRate"), m.successRate === null ? "—" : asPercent(m.successRate)),
    tile(
      t("admin.metrics.timePerPose"),
      times.p50 === null ? "—" : asSeconds(times.p50),
      times.samples ? t("admin.metrics.timeDetail", { p95: asSeconds(times.p95), samples: formatNumber(times.samples) }) : null,
    ),
    tile(t("admin.metrics.refundRate"), m.refundRate === null ? "—" : asPercent(m.refundRate), t("admin.metrics.creditsDetail", {
      spent: formatNumber(m.totalCreditsSpent),
      refunded: formatNumber(m.totalCreditsRefunded),
    })),
    tile(t("admin.metrics.queueNow"), formatNumber(m.queueDepth), t("admin.metrics.queueDetail", {
      waiting: formatNumber(m.queueWaiting),
      active: formatNumber(m.queueActive),
      dead: formatNumber(m.deadPoses),
    })),
  );
  summary.setAttribute("aria-busy", "false");
}

/** The last DAYS UTC days, oldest first, as YYYY-MM-DD. */
function lastDays() {
  const today = new Date();
  const days = [];
  for (let back = DAYS - 1; back >= 0; back -= 1) {
    const day = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - back));
    days.push(day.toISOString().slice(0, 10));
  }
  return days;
}

async function loadSeries() {
  const days = lastDays();
  const figures = await Promise.all(days.map((day) => api(`${APP}/metrics${query({ startDate: day, endDate: day })}`)));
  return days.map((day, index) => ({ day, metrics: figures[index] }));
}

function point(entry, value) {
  const date = new Date(`${entry.day}T00:00:00Z`);
  return { label: dayLabel.format(date), tick: String(date.getUTCDate()), value };
}

function showCharts(series, errors) {
  // The space one chart gets (two columns on a wide screen), in CSS pixels.
  const columns = charts.clientWidth >= 860 ? 2 : 1;
  const width = Math.round(Math.min(560, Math.max(300, charts.clientWidth / columns - 32)));
  fill(
    charts,
    lineChart({
      id: "chart-success",
      title: t("admin.metrics.chartSuccess"),
      unit: t("admin.metrics.successRate"),
      points: series.map((entry) => point(entry, entry.metrics.successRate)),
      format: asPercent,
      max: 100,
      width,
    }),
    barChart({
      id: "chart-poses",
      title: t("admin.metrics.chartPoses"),
      unit: t("admin.metrics.posesGenerated"),
      points: series.map((entry) => point(entry, entry.metrics.totalPosesGenerated)),
      format: (value) => formatNumber(Math.round(value)),
      integer: true,
      width,
    }),
    barChart({
      id: "chart-time",
      title: t("admin.metrics.chartTime"),
      unit: t("admin.metrics.timePerPose"),
      points: series.map((entry) => point(entry, entry.metrics.avgGenerationTimeMs.p50)),
      format: asSeconds,
      width,
    }),
    lineChart({
      id: "chart-refunds",
      title: t("admin.metrics.chartRefunds"),
      unit: t("admin.metrics.refundRate"),
      points: series.map((entry) => point(entry, entry.metrics.refundRate)),
      format: asPercent,
      max: 100,
      width,
    }),
    categoryChart({
      id: "chart-errors",
      title: t("admin.metrics.chartErrors", { period: t(`admin.metrics.periods.${form.elements.period.value}`) }),
      unit: t("admin.metrics.failedPoses"),
      items: errors.errors.map((group) => ({ label: group.errorCode, value: group.count })),
      format: (value) => formatNumber(value),
      width,
    }),
  );
}

function showTopUsers(result) {
  fill(
    topUsers,
    result.users.length
      ? result.users.map((user) =>
          h(
            "tr",
            {},
            cell([user.name, h("br"), h("span", { class: "muted wrap-anywhere" }, user.email)]),
            cell(formatNumber(user.generations), { number: true }),
            cell(formatNumber(user.posesGenerated), { number: true }),
            cell(formatNumber(user.creditsCharged - user.creditsRefunded), { number: true }),
          ),
        )
      : emptyRow(4),
  );
}

function showPopular(result) {
  fill(
    popular,
    result.poses.length
      ? result.poses.map((pose) =>
          h(
            "tr",
            {},
            cell(pose.name),
            cell(formatNumber(pose.generations), { number: true }),
            cell(formatNumber(pose.posesGenerated), { number: true }),
          ),
        )
      : emptyRow(3),
  );
}

let latest = 0; // only the answer to the latest choice of period is shown

async function load() {
  const period = form.elements.period.value;
  const mine = ++latest;
  summary.setAttribute("aria-busy", "true");
  try {
    const [metrics, errors, users, poses, series] = await Promise.all([
      api(`${APP}/metrics${query({ period })}`),
      api(`${APP}/metrics/errors${query({ period })}`),
      api(`${APP}/metrics/top-users${query({ period, limit: 10 })}`),
      api(`${APP}/metrics/popular-poses${query({ period, limit: 10 })}`),
      loadSeries(),
    ]);
    if (mine !== latest) return;
    showError(errorRegion, "");
    showSummary(metrics);
    showCharts(series, errors);
    showTopUsers(users);
    showPopular(poses);
  } catch (error) {
    showError(errorRegion, error);
  }
}

form.addEventListener("submit", (event) => event.preventDefault());
form.elements.period.addEventListener("change", load);
load();
