// Runs before first paint (loaded without defer) so the saved theme never flashes.
(function () {
  try {
    var saved = localStorage.getItem("engagex-theme");
    if (saved === "light" || saved === "dark") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (error) {
    // Storage may be unavailable (privacy mode); the default dark theme applies.
  }
})();
