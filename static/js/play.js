/**
 * play.js: on a game's page (/games/<id>/play/) refused because a reality check awaits the
 * player's answer, the two answers the reality check's notice offers: continue playing (the
 * acknowledgement, then the page again, which launches the game) or log out.
 */
import { csrfToken } from "./site.js";

const choice = document.getElementById("reality-check-choice");
if (choice) {
  const result = document.getElementById("reality-check-result");
  choice.querySelector("[data-action=acknowledge]").addEventListener("click", async () => {
    const response = await fetch(choice.dataset.acknowledge, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
    if (response.ok) {
      window.location.reload();
    } else {
      result.textContent = "That did not work. Try again, or reload the page.";
    }
  });
  choice.querySelector("[data-action=log-out]").addEventListener("click", () => {
    document.querySelector("form.logout").submit();
  });
}
