// The studio page: plain JavaScript, no libraries, nothing fetched from outside this server.
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

function showError(target, message) {
  target.innerHTML = "";
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = message;
  target.append(p);
}

// The server answers every error as {"error": "one line"}; anything else (a proxy's page, FastAPI's list of
// problems) is still shown as readable text, never as "[object Object]".
function errorText(body, status) {
  if (body && typeof body.error === "string") return body.error;
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && d.msg) || String(d)).join("; ");
  return `the server answered ${status}`;
}

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(errorText(body, response.status));
  return body;
}

function figure(src, caption) {
  const f = document.createElement("figure");
  const img = document.createElement("img");
  img.src = src;
  const c = document.createElement("figcaption");
  c.textContent = caption;
  f.append(img, c);
  return f;
}

// tabs
$$("nav button").forEach((button) => button.addEventListener("click", () => {
  $$("nav button").forEach((b) => b.classList.toggle("active", b === button));
  $$("section").forEach((s) => s.classList.toggle("active", s.id === button.dataset.tab));
}));

// sliders show their values; method choice shows its controls
$$("input[type=range]").forEach((input) => {
  const label = $(`[data-value="${input.name}"]`);
  input.addEventListener("input", () => { if (label) label.textContent = input.value; });
});
const imageForm = $("#image-form");
function showMethod() {
  const method = imageForm.method.value;
  $$("[data-show]", imageForm).forEach((el) => { el.hidden = !el.dataset.show.split(" ").includes(method); });
}
imageForm.method.addEventListener("change", showMethod);
showMethod();

// samples
call("/api/info").then((info) => {
  $$("select[data-samples]").forEach((select) => {
    const names = info[select.dataset.samples] || [];
    if (select.dataset.empty !== undefined || !names.length) {
      select.append(new Option(select.dataset.empty || "(none trained yet)", ""));
    }
    const titles = select.dataset.samples === "styles" ? info.style_titles || {} : {};
    names.forEach((name) => select.append(new Option(titles[name] || name, name)));
  });
  // the studio opens on the cat and The Starry Night (bundled public-domain paintings are the styles)
  if (info.styles.includes("starry_night")) imageForm.style_sample.value = "starry_night";
  preview();
});

// before a result: the chosen inputs (for a per-style network, its painting beside the photo in its style)
function preview() {
  const target = $("#image-result");
  target.innerHTML = "";
  target.append(inputsRow(imageForm));
}
["content_sample", "style_sample", "fast_style", "method"].forEach((name) => imageForm[name].addEventListener("change", preview));

function inputsRow(form) {
  const row = document.createElement("div");
  row.className = "row";
  const photo = form.content.files[0];
  row.append(figure(photo ? URL.createObjectURL(photo) : `/api/sample/photo/${form.content_sample.value}`, "photo"));
  if (form.method.value !== "fast") {
    const style = form.style.files[0];
    const title = form.style_sample.selectedOptions[0]?.textContent || "style";
    row.append(figure(style ? URL.createObjectURL(style) : `/api/sample/style/${form.style_sample.value}`, style ? "style" : title));
  } else if (form.fast_style.value) {
    row.append(figure(`/api/sample/network/${form.fast_style.value}`, `network ${form.fast_style.value}: its painting, and the cat in its style`));
  }
  return row;
}

let runningJob = null;
imageForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const target = $("#image-result");
  const data = new FormData(imageForm);
  target.innerHTML = "<p class='note'>working…</p>";
  try {
    if (imageForm.method.value === "gatys") {
      const { job, total } = await call("/api/gatys", { method: "POST", body: data });
      runningJob = job;
      $("#cancel").hidden = false;
      const bar = document.createElement("progress");
      bar.max = total;
      const status = document.createElement("p");
      status.className = "note";
      target.innerHTML = "";
      target.append(inputsRow(imageForm), bar, status);
      while (runningJob === job) {
        const state = await call(`/api/gatys/${job}`);
        bar.value = state.step;
        status.textContent = `${state.status}: evaluation ${state.step} of ${state.total}  ` +
          Object.entries(state.losses).map(([k, v]) => `${k} ${v.toPrecision(3)}`).join("  ");
        if (state.status === "done") { target.append(figure(state.image, "Gatys")); break; }
        if (state.status === "failed") throw new Error(state.error);
        if (state.status === "cancelled") break;
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      $("#cancel").hidden = true;
    } else {
      const result = await call("/api/image", { method: "POST", body: data });
      target.innerHTML = "";
      target.append(inputsRow(imageForm), figure(result.image, `${imageForm.method.value}, ${result.size.join("×")} px, ${result.seconds} s`));
      const link = document.createElement("a");
      link.href = result.image;
      link.download = "multistyle.png";
      link.textContent = "download";
      target.append(link);
    }
  } catch (error) {
    $("#cancel").hidden = true;
    showError(target, error.message);
  }
});
$("#cancel").addEventListener("click", async () => {
  if (runningJob) await call(`/api/gatys/${runningJob}`, { method: "DELETE" });
});

$("#text-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const target = $("#text-result");
  const data = new FormData(event.target);
  if (!data.get("strength")) data.delete("strength");
  try {
    const r = await call("/api/text", { method: "POST", body: data });
    target.innerHTML = "";
    const out = document.createElement("p");
    out.style.fontSize = "20px";
    out.textContent = r.output;
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = `${r.strength === null ? "strength chosen for the sentence" : "strength " + r.strength}; how positive it reads to the model: ${Math.round(100 * r.positive_before)} % before, ${Math.round(100 * r.positive_after)} % after`;
    target.append(out, note);
  } catch (error) { showError(target, error.message); }
});

$("#audio-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const target = $("#audio-result");
  const data = new FormData(event.target);
  if (!data.get("steps")) data.delete("steps");
  target.innerHTML = "<p class='note'>working… (tens of seconds)</p>";
  try {
    const r = await call("/api/audio", { method: "POST", body: data });
    target.innerHTML = "";
    const player = document.createElement("audio");
    player.controls = true;
    player.src = r.audio;
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = r.summary;
    target.append(player, note, figure(r.spectrogram, "spectrograms: inputs and result"));
  } catch (error) { showError(target, error.message); }
});
