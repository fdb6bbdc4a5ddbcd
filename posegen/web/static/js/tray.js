// The tray: poses picked in the library for the next generation. It lives in the tab's
// sessionStorage (pose ids, names and thumbnails only: nothing secret), so it survives moving
// between the library and the Generate page and is gone when the tab closes.

const KEY = "posegen.tray";
// As POST /generate allows (selectedPoseIds: 1–50).
export const TRAY_LIMIT = 50;

/** The poses in the tray: [{id, name, thumbnailUrl}] in the order they were picked. */
export function trayPoses() {
  try {
    const poses = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(poses) ? poses : [];
  } catch {
    return [];
  }
}

function save(poses) {
  sessionStorage.setItem(KEY, JSON.stringify(poses));
  window.dispatchEvent(new CustomEvent("tray-changed", { detail: poses }));
}

export function inTray(poseId) {
  return trayPoses().some((pose) => pose.id === poseId);
}

/** Add or remove `pose` ({id, name, thumbnailUrl}); false when the tray is full. */
export function toggleTray(pose) {
  const poses = trayPoses();
  const at = poses.findIndex((item) => item.id === pose.id);
  if (at >= 0) {
    poses.splice(at, 1);
  } else {
    if (poses.length >= TRAY_LIMIT) return false;
    poses.push({ id: pose.id, name: pose.name, thumbnailUrl: pose.thumbnailUrl });
  }
  save(poses);
  return true;
}

export function removeFromTray(poseId) {
  save(trayPoses().filter((pose) => pose.id !== poseId));
}

export function clearTray() {
  save([]);
}
