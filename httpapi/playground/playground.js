// The faceswap playground: choose two images, see their faces numbered as
// the API numbers them, click faces to pair them, swap, compare. Plain
// JavaScript, no framework, nothing loaded from elsewhere. The request
// controls are built from the server's own /openapi.json, so every field
// of the swap request is here with its documented default.
"use strict";
(() => {
  const SWAP_PATH = "/v1/faceswap-v3-multifaceswap";
  const FACES_PATH = "/v1/faces";
  const CREDITS_PATH = "/v1/get-user-credits";
  const KEY_STORE = "faceswap.apiKey";
  const IMAGE_FIELDS = ["source_img", "target_img"];
  const PALETTE = ["#d62839", "#1f8a4c", "#2456d6", "#e07a10", "#8a2be2", "#0a8a8a", "#c0307a", "#7a5a10"];
  const MIME = { jpeg: "image/jpeg", jpg: "image/jpeg", png: "image/png", webp: "image/webp" };

  const $ = (id) => document.getElementById(id);

  // Per image: what was chosen and the faces the API found in it.
  const roles = {
    source: { field: "source_img", indexField: "source_faces_index", genderField: "detect_gender_source" },
    target: { field: "target_img", indexField: "input_faces_index", genderField: "detect_gender_input" },
  };
  const images = {};
  for (const role of Object.keys(roles)) {
    images[role] = { file: null, url: "", name: "", objectURL: "", faces: [], width: 0, height: 0,
      seq: 0, token: 0, facesToken: -1, picked: false };
  }
  const controls = {}; // field name → { el, spec }
  let resultURL = "";

  // ---- errors ----------------------------------------------------------

  function showError(status, message) {
    $("error-code").textContent = status ? String(status) : "";
    $("error-message").textContent = message;
    $("error").hidden = false;
  }
  function clearError() { $("error").hidden = true; }
  $("error-close").addEventListener("click", clearError);

  // errorMessage returns the API's one sentence from an error body.
  async function errorMessage(status, text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === "string" && body.error) return body.error;
    } catch (e) { /* not JSON: say so below */ }
    return `The server answered ${status} without an error message.`;
  }
  const unreachable = "The server could not be reached; check that faceswap serve is running.";

  // ---- the key and credits ---------------------------------------------

  const keyInput = $("key");
  try { keyInput.value = localStorage.getItem(KEY_STORE) || ""; } catch (e) { /* storage disabled */ }
  const apiKey = () => keyInput.value.trim();
  let creditsTimer = 0;
  keyInput.addEventListener("input", () => {
    try { localStorage.setItem(KEY_STORE, apiKey()); } catch (e) { /* storage disabled */ }
    clearTimeout(creditsTimer);
    creditsTimer = setTimeout(refreshCredits, 400);
  });
  $("key-show").addEventListener("click", () => {
    const hidden = keyInput.type === "password";
    keyInput.type = hidden ? "text" : "password";
    $("key-show").textContent = hidden ? "Hide" : "Show";
  });

  function showCredits(total, paid, free) {
    const el = $("credits");
    el.dataset.credits = String(total);
    el.textContent = paid === undefined ? `Credits: ${total}` : `Credits: ${total} (${paid} paid, ${free} free)`;
  }
  function creditsFromHeader(get) {
    const v = get("X-Remaining-Credits");
    if (v !== null && v !== "" && !isNaN(Number(v))) showCredits(Number(v));
  }

  function headers(json) {
    const h = {};
    if (apiKey()) h["x-api-key"] = apiKey();
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  let creditsSeq = 0;
  async function refreshCredits() {
    const seq = ++creditsSeq;
    if (!apiKey()) { $("credits").textContent = ""; delete $("credits").dataset.credits; return; }
    let resp, text;
    try {
      resp = await fetch(CREDITS_PATH, { headers: headers(false) });
      text = await resp.text();
    } catch (e) {
      if (seq === creditsSeq) showError(0, unreachable);
      return;
    }
    if (seq !== creditsSeq) return;
    if (!resp.ok) {
      $("credits").textContent = "";
      delete $("credits").dataset.credits;
      showError(resp.status, await errorMessage(resp.status, text));
      return;
    }
    clearError();
    const body = JSON.parse(text);
    showCredits(body.credits + body["free-credits"], body.credits, body["free-credits"]);
    // Images whose faces could not be listed (say, before the key was
    // given) are tried again now that the key works.
    for (const role of Object.keys(roles)) {
      if ($(role + "-panel").dataset.state === "error") detect(role);
    }
  }

  // ---- request controls, built from /openapi.json ----------------------

  function lookup(doc, ref) {
    let v = doc;
    for (const tok of ref.replace(/^#\//, "").split("/")) v = v[tok.replace(/~1/g, "/").replace(/~0/g, "~")];
    return v;
  }
  // resolve follows $refs, keeping the referring schema's own keywords
  // (a property's default or description wins over the shared schema's).
  function resolve(doc, s) {
    let out = Object.assign({}, s);
    for (let i = 0; out.$ref && i < 8; i++) {
      const ref = out.$ref;
      delete out.$ref;
      out = Object.assign({}, lookup(doc, ref), out);
    }
    return out;
  }

  function buildControl(name, spec) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.dataset.field = name;
    const label = document.createElement("label");
    label.htmlFor = "f-" + name;
    label.textContent = name;
    let el;
    if (Array.isArray(spec.enum)) {
      el = document.createElement("select");
      for (const v of spec.enum) {
        const o = document.createElement("option");
        o.value = o.textContent = String(v);
        el.appendChild(o);
      }
      el.value = spec.default !== undefined ? String(spec.default) : String(spec.enum[0]);
    } else if (spec.type === "boolean") {
      el = document.createElement("input");
      el.type = "checkbox";
      el.checked = spec.default === true;
    } else if (spec.type === "integer" || spec.type === "number") {
      el = document.createElement("input");
      el.type = "number";
      if (spec.minimum !== undefined) el.min = spec.minimum;
      if (spec.maximum !== undefined) el.max = spec.maximum;
      el.step = spec.type === "integer" ? "1" : "0.05";
      el.value = spec.default !== undefined ? String(spec.default) : "";
    } else {
      el = document.createElement("input");
      el.type = "text";
      el.spellcheck = false;
      el.value = spec.default !== undefined ? String(spec.default) : "";
      if (spec.pattern) el.pattern = spec.pattern;
    }
    el.id = "f-" + name;
    el.name = name;
    el.dataset.default = spec.default !== undefined ? String(spec.default) : "";
    wrap.appendChild(label);
    if (el.type === "checkbox") {
      label.prepend(el);
      label.append(" ");
    } else {
      wrap.appendChild(el);
    }
    if (spec.description) {
      const d = document.createElement("span");
      d.className = "desc";
      d.textContent = spec.description;
      wrap.appendChild(d);
    }
    controls[name] = { el, spec, wrap };
    el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input", () => fieldChanged(name));
    return wrap;
  }

  async function loadFields() {
    let doc;
    try {
      const resp = await fetch("/openapi.json");
      doc = await resp.json();
    } catch (e) {
      showError(0, "The page could not read /openapi.json, which lists the request fields.");
      return;
    }
    const req = doc.components.schemas.SwapRequest;
    const box = $("fields");
    for (const [name, raw] of Object.entries(req.properties)) {
      if (IMAGE_FIELDS.includes(name)) continue;
      box.appendChild(buildControl(name, resolve(doc, raw)));
    }
    for (const name of Object.keys(controls)) markChanged(name);
  }

  function value(name) {
    const c = controls[name];
    if (!c) return "";
    return c.el.type === "checkbox" ? c.el.checked : c.el.value.trim();
  }
  function setValue(name, v) {
    const c = controls[name];
    if (!c) return;
    if (c.el.type === "checkbox") c.el.checked = v; else c.el.value = v;
    markChanged(name);
  }
  function isDefault(name) {
    const c = controls[name];
    if (c.el.type === "checkbox") return String(c.el.checked) === (c.el.dataset.default || "false");
    return value(name) === c.el.dataset.default;
  }
  function markChanged(name) { controls[name].wrap.classList.toggle("changed", !isDefault(name)); }

  function fieldChanged(name) {
    markChanged(name);
    if (name === "detection_face_order") { detect("source"); detect("target"); }
    for (const role of Object.keys(roles)) {
      if (name === roles[role].genderField) detect(role);
      if (name === roles[role].indexField) { images[role].picked = true; redraw(); }
    }
  }

  // requestFields are the fields to send besides the images: the face
  // indices whenever given, every other field when it differs from its
  // default, typed as the JSON body wants them.
  function requestFields() {
    const out = [];
    for (const [name, c] of Object.entries(controls)) {
      const v = value(name);
      const isIndex = name === roles.source.indexField || name === roles.target.indexField;
      if (v === "" || (!isIndex && isDefault(name))) continue;
      let typed = v;
      if (c.spec.type === "integer" || c.spec.type === "number") typed = Number(v);
      out.push([name, typed]);
    }
    return out;
  }

  // ---- images and their faces ------------------------------------------

  function setStatus(role, text) { $(role + "-status").textContent = text; }

  function useImage(role, file, url) {
    const im = images[role];
    if (im.objectURL) URL.revokeObjectURL(im.objectURL);
    im.file = file;
    im.url = url;
    im.name = file ? (file.name || role + ".jpg") : "";
    im.objectURL = file ? URL.createObjectURL(file) : "";
    im.faces = [];
    im.picked = false;
    im.token++;
    const img = $(role + "-img");
    img.src = file ? im.objectURL : url;
    $(role + "-stage").hidden = false;
    $(role + "-boxes").replaceChildren();
    if (role === "target") hideResult();
    clearError();
    detect(role);
  }

  for (const role of Object.keys(roles)) {
    $(role + "-file").addEventListener("change", (e) => {
      const f = e.target.files && e.target.files[0];
      if (f) useImage(role, f, "");
    });
    $(role + "-url-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const u = $(role + "-url").value.trim();
      if (u) useImage(role, null, u);
    });
    const drop = $(role + "-drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const dt = e.dataTransfer;
      if (dt.files && dt.files.length) { useImage(role, dt.files[0], ""); return; }
      const u = (dt.getData("text/uri-list") || dt.getData("text/plain") || "").split("\n")[0].trim();
      if (u) { $(role + "-url").value = u; useImage(role, null, u); }
    });
    $(role + "-img").addEventListener("error", () => {
      if (images[role].file || images[role].url) setStatus(role, "The browser cannot show this image; the server may still read it.");
    });
  }
  // A file dropped beside the drop zones must not replace the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  // detect asks the API for the faces of one image, numbered by the current
  // detection_face_order and that image's gender filter.
  async function detect(role) {
    const im = images[role];
    if (!im.file && !im.url) return;
    const seq = ++im.seq;
    const token = im.token;
    const order = value("detection_face_order") || "large-small";
    const gender = value(roles[role].genderField) || "no";
    setStatus(role, "Finding faces…");
    $(role + "-panel").dataset.state = "detecting";
    let resp, text;
    try {
      if (im.file) {
        const fd = new FormData();
        fd.append("image", im.file, im.name);
        fd.append("detection_face_order", order);
        fd.append("detect_gender", gender);
        resp = await fetch(FACES_PATH, { method: "POST", headers: headers(false), body: fd });
      } else {
        const body = JSON.stringify({ image: im.url, detection_face_order: order, detect_gender: gender });
        resp = await fetch(FACES_PATH, { method: "POST", headers: headers(true), body });
      }
      text = await resp.text();
    } catch (e) {
      if (seq === im.seq) { setStatus(role, ""); $(role + "-panel").dataset.state = "error"; showError(0, unreachable); }
      return;
    }
    if (seq !== im.seq) return; // a newer request is under way
    creditsFromHeader((n) => resp.headers.get(n));
    if (!resp.ok) {
      im.faces = [];
      redraw();
      setStatus(role, "");
      $(role + "-panel").dataset.state = "error";
      showError(resp.status, await errorMessage(resp.status, text));
      return;
    }
    const body = JSON.parse(text);
    // Re-numbering the same image (a new order or filter) keeps the chosen
    // faces chosen: they are matched by their boxes.
    if (im.facesToken === token && im.faces.length) {
      const boxes = indices(role).map((i) => im.faces.find((f) => f.index === i)).filter(Boolean).map((f) => f.box);
      const next = boxes.map((b) => body.faces.find((f) => f.box.every((v, k) => Math.abs(v - b[k]) < 0.5)))
        .filter(Boolean).map((f) => f.index);
      setValue(roles[role].indexField, next.join(","));
    }
    im.faces = body.faces;
    im.width = body.width;
    im.height = body.height;
    im.facesToken = token;
    const n = body.faces.length;
    const filter = gender !== "no" ? ` (${gender} only)` : "";
    setStatus(role, `${n} ${n === 1 ? "face" : "faces"} found${filter}, ${body.width}×${body.height}. Click to choose.`);
    $(role + "-panel").dataset.state = "ready";
    redraw();
  }

  // indices parses an index field as the API reads it.
  function indices(role) {
    return String(value(roles[role].indexField)).split(",").map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number);
  }

  // pairing says which colour each chosen face gets: the n-th source face
  // and the n-th target face share one, and a single source face shares
  // its colour with every target face.
  function pairing() {
    const s = indices("source"), t = indices("target");
    const colour = { source: new Map(), target: new Map() };
    const pairs = [];
    let warning = "";
    if (s.length === 1) {
      colour.source.set(s[0], PALETTE[0]);
      for (const ti of t) { if (!colour.target.has(ti)) colour.target.set(ti, PALETTE[0]); pairs.push([s[0], ti, PALETTE[0]]); }
    } else {
      s.forEach((si, k) => { if (!colour.source.has(si)) colour.source.set(si, PALETTE[k % PALETTE.length]); });
      t.forEach((ti, k) => { if (!colour.target.has(ti)) colour.target.set(ti, PALETTE[k % PALETTE.length]); });
      if (s.length === t.length) t.forEach((ti, k) => pairs.push([s[k], ti, PALETTE[k % PALETTE.length]]));
      else if (s.length && t.length) warning = `${s.length} source faces and ${t.length} target faces cannot pair: choose one source face, or as many as target faces.`;
    }
    return { colour, pairs, warning, s, t };
  }

  function redraw() {
    const p = pairing();
    for (const role of Object.keys(roles)) drawFaces(role, p.colour[role]);
    const box = $("pairs");
    box.replaceChildren();
    if (p.warning) {
      const w = document.createElement("span");
      w.className = "warn";
      w.textContent = p.warning;
      box.appendChild(w);
      return;
    }
    if (!p.pairs.length) {
      const what = !p.s.length && !p.t.length ? "No faces chosen" : !p.s.length ? "No source face chosen" : "No target face chosen";
      box.textContent = `${what}: the API uses face 0 where none is given.`;
      return;
    }
    box.append("Pairs: ");
    for (const [si, ti, c] of p.pairs) {
      const span = document.createElement("span");
      span.className = "pair";
      span.style.setProperty("--pair", c);
      span.textContent = `source ${si} → target ${ti}`;
      box.appendChild(span);
    }
  }

  function drawFaces(role, colours) {
    const im = images[role];
    const box = $(role + "-boxes");
    box.replaceChildren();
    if (!im.width || !im.height) return;
    const pct = (v, of) => `${(100 * v / of).toFixed(3)}%`;
    for (const f of im.faces) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "face";
      b.dataset.index = String(f.index);
      // A box may reach past the picture's edge; draw the part inside.
      const x0 = Math.max(0, f.box[0]), y0 = Math.max(0, f.box[1]);
      const x1 = Math.min(im.width, f.box[0] + f.box[2]), y1 = Math.min(im.height, f.box[1] + f.box[3]);
      b.style.left = pct(x0, im.width);
      b.style.top = pct(y0, im.height);
      b.style.width = pct(Math.max(x1 - x0, 1), im.width);
      b.style.height = pct(Math.max(y1 - y0, 1), im.height);
      const n = document.createElement("span");
      n.className = "n";
      n.textContent = String(f.index);
      b.appendChild(n);
      const about = [f.gender ? `${f.gender} (${Math.round(f.gender_score * 100)}%)` : "", f.age ? `about ${Math.round(f.age)} years` : ""].filter(Boolean).join(", ");
      b.title = `${role} face ${f.index}${about ? ": " + about : ""}`;
      // A face at the top edge carries its number inside its box.
      if (y0 < 0.06 * im.height) b.classList.add("top");
      const c = colours.get(f.index);
      b.setAttribute("aria-pressed", c ? "true" : "false");
      b.setAttribute("aria-label", b.title);
      if (c) { b.classList.add("chosen"); b.style.setProperty("--pair", c); }
      b.addEventListener("click", () => toggle(role, f.index));
      box.appendChild(b);
    }
  }

  // toggle adds a face to its image's index list, or drops it. The first
  // click on an image replaces the default index ("0") instead of adding.
  function toggle(role, index) {
    const im = images[role];
    const list = im.picked ? indices(role) : [];
    im.picked = true;
    const at = list.indexOf(index);
    if (at >= 0) list.splice(at, 1); else list.push(index);
    setValue(roles[role].indexField, list.join(","));
    redraw();
  }

  // ---- swapping --------------------------------------------------------

  function outputExt() {
    const f = String(value("image_format") || "jpeg").toLowerCase();
    return f === "jpg" ? "jpeg" : (MIME[f] ? f : "jpeg");
  }

  function hideResult() {
    $("compare").hidden = true;
    $("result-info").hidden = true;
    $("result-placeholder").hidden = false;
  }

  function parseServerTiming(h) {
    return String(h || "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
      const [name, ...params] = p.split(";");
      let dur = 0;
      for (const q of params) {
        const [k, v] = q.split("=");
        if (k.trim() === "dur") dur = parseFloat(v);
      }
      return { name: name.trim(), dur };
    });
  }

  function showTimings(stages) {
    const tbody = $("timings").tBodies[0];
    tbody.replaceChildren();
    const total = stages.reduce((a, s) => a + s.dur, 0);
    const row = (name, ms, frac, cls) => {
      const tr = document.createElement("tr");
      if (cls) tr.className = cls;
      const a = document.createElement("td"); a.textContent = name;
      const b = document.createElement("td"); b.className = "bar";
      if (frac !== null) { const s = document.createElement("span"); s.style.width = `${(100 * frac).toFixed(1)}%`; b.appendChild(s); }
      const c = document.createElement("td"); c.className = "ms"; c.textContent = ms.toFixed(1);
      tr.append(a, b, c);
      tbody.appendChild(tr);
    };
    for (const s of stages) row(s.name, s.dur, total > 0 ? s.dur / total : 0, "");
    row("total", total, null, "total");
  }

  function setProgress(percent, text) {
    $("progress").hidden = false;
    const bar = $("progress-bar");
    if (percent === null) bar.removeAttribute("value"); else bar.value = percent;
    $("progress-text").textContent = text;
  }

  function swap() {
    clearError();
    const fd = new FormData();
    for (const role of Object.keys(roles)) {
      const im = images[role];
      if (im.file) fd.append(roles[role].field, im.file, im.name);
      else if (im.url) fd.append(roles[role].field, im.url);
    }
    const fields = requestFields();
    for (const [name, v] of fields) fd.append(name, String(v));
    const wantsBase64 = fields.some(([n, v]) => n === "base64" && v === true);

    const button = $("swap");
    button.disabled = true;
    $("result-panel").dataset.state = "swapping";
    const started = performance.now();
    let uploaded = false;
    setProgress(0, "Uploading…");
    const timer = setInterval(() => {
      if (uploaded) setProgress(null, `Swapping… ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }, 100);
    const done = () => { clearInterval(timer); button.disabled = false; $("progress").hidden = true; };

    const xhr = new XMLHttpRequest();
    xhr.open("POST", SWAP_PATH);
    if (apiKey()) xhr.setRequestHeader("x-api-key", apiKey());
    xhr.responseType = "blob";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && !uploaded) setProgress(100 * e.loaded / e.total, `Uploading… ${Math.round(100 * e.loaded / e.total)}%`);
    });
    xhr.upload.addEventListener("load", () => { uploaded = true; setProgress(null, "Swapping…"); });
    xhr.addEventListener("error", () => { done(); $("result-panel").dataset.state = "error"; showError(0, unreachable); });
    xhr.addEventListener("load", async () => {
      done();
      const get = (n) => xhr.getResponseHeader(n);
      creditsFromHeader(get);
      if (xhr.status !== 200) {
        $("result-panel").dataset.state = "error";
        showError(xhr.status, await errorMessage(xhr.status, await xhr.response.text()));
        return;
      }
      let blob = xhr.response;
      let details = null;
      if (wantsBase64 || (get("Content-Type") || "").startsWith("application/json")) {
        const body = JSON.parse(await blob.text());
        details = body.faces_quality || null;
        const bin = atob(body.image);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        blob = new Blob([bytes], { type: MIME[outputExt()] });
      }
      showResult(blob, {
        id: get("X-Request-Id") || "",
        faces: get("X-Faces-Swapped"),
        stages: parseServerTiming(get("Server-Timing")),
        warning: get("Warning"),
      });
      showPoor(get("X-Faces-Poor"), details);
    });
    xhr.send(fd);
  }

  // What each reason of X-Faces-Poor means, for people.
  const POOR_REASONS = {
    "pose-gap": "the two heads are turned or tilted far apart",
    "source-resolution": "the source face is much smaller than the target face, or out of focus, so it comes out soft",
    "occlusion": "part of a face is hidden or outside its picture, or the source wears glasses",
    "expression-gap": "the target's mouth or eyes are open where the source's are not",
  };

  // showPoor lists the faces the server judged beyond the engine: from the
  // X-Faces-Poor header ("1=pose-gap+expression-gap,3=occlusion"), with the
  // server's own sentences when the answer was JSON (faces_quality).
  function showPoor(header, details) {
    const list = $("result-poor-list");
    list.replaceChildren();
    const byIndex = {};
    for (const f of details || []) if (f.poor) byIndex[f.index] = f.poor;
    for (const entry of (header || "").split(",")) {
      const [index, reasons] = entry.trim().split("=");
      if (!reasons) continue;
      const li = document.createElement("li");
      li.dataset.index = index;
      const said = byIndex[index] ? byIndex[index].map((p) => `${p.detail} (${p.reason})`)
        : reasons.split("+").map((r) => `${POOR_REASONS[r] || r} (${r})`);
      li.textContent = `target face ${index}: ${said.join("; ")}`;
      list.append(li);
    }
    $("result-poor").hidden = list.children.length === 0;
  }

  function showResult(blob, info) {
    if (resultURL) URL.revokeObjectURL(resultURL);
    resultURL = URL.createObjectURL(blob);
    const img = $("result-img");
    img.onload = () => {
      const parts = [];
      if (info.faces !== null) parts.push(`${info.faces} ${info.faces === "1" ? "face" : "faces"} swapped`);
      parts.push(`${img.naturalWidth}×${img.naturalHeight}`);
      parts.push(`${(blob.size / 1024).toFixed(0)} KB`);
      if (info.id) parts.push(`request ${info.id}`);
      if (info.warning) parts.push(info.warning);
      $("result-summary").textContent = parts.join(" · ");
      $("result-panel").dataset.state = "done";
    };
    img.src = resultURL;
    $("before-img").src = $("target-img").src;
    const dl = $("download");
    dl.href = resultURL;
    dl.download = `faceswap-${info.id || "result"}.${outputExt() === "jpeg" ? "jpg" : outputExt()}`;
    showTimings(info.stages);
    $("result-placeholder").hidden = true;
    $("compare").hidden = false;
    $("result-info").hidden = false;
  }

  $("compare-slider").addEventListener("input", (e) => {
    const v = e.target.value;
    $("after").style.clipPath = `inset(0 0 0 ${v}%)`;
    $("divider").style.left = `${v}%`;
  });
  $("swap").addEventListener("click", swap);

  // ---- copy as curl / Python -------------------------------------------

  const shq = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
  const pyStr = (s) => JSON.stringify(String(s));
  const pyLit = (v) => typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "number" ? String(v) : pyStr(v);
  const outputName = () => {
    const b64 = requestFields().some(([n, v]) => n === "base64" && v === true);
    return b64 ? "faceswap-result.json" : `faceswap-result.${outputExt() === "jpeg" ? "jpg" : outputExt()}`;
  };

  // imageParts describes each image as the snippets send it: a file to
  // upload (by its name; run the snippet beside the file) or a URL.
  function imageParts() {
    return Object.keys(roles).map((role) => {
      const im = images[role];
      if (im.file) return { field: roles[role].field, file: im.name };
      if (im.url) return { field: roles[role].field, url: im.url };
      return { field: roles[role].field, file: role + ".jpg" };
    });
  }

  function curlSnippet() {
    const endpoint = location.origin + SWAP_PATH;
    const parts = imageParts();
    const fields = requestFields();
    const lines = [`curl -sS ${shq(endpoint)}`, `-H ${shq("x-api-key: " + (apiKey() || "YOUR_API_KEY"))}`];
    if (parts.some((p) => p.file)) {
      for (const p of parts) {
        if (p.file) lines.push(`-F ${shq(`${p.field}=@"${p.file.replace(/["\\]/g, "\\$&")}"`)}`);
        else lines.push(`--form-string ${shq(`${p.field}=${p.url}`)}`);
      }
      for (const [n, v] of fields) lines.push(`--form-string ${shq(`${n}=${v}`)}`);
    } else {
      const body = {};
      for (const p of parts) body[p.field] = p.url;
      for (const [n, v] of fields) body[n] = v;
      lines.push(`-H 'Content-Type: application/json'`, `-d ${shq(JSON.stringify(body))}`);
    }
    lines.push(`-o ${shq(outputName())}`, `-w '%{http_code} %{content_type}\\n'`);
    return lines.join(" \\\n  ");
  }

  function pythonSnippet() {
    const parts = imageParts();
    const fields = requestFields();
    const b64 = fields.some(([n, v]) => n === "base64" && v === true);
    const out = outputName().replace(/\.json$/, "." + (outputExt() === "jpeg" ? "jpg" : outputExt()));
    const L = [];
    L.push(b64 ? "import base64\n\nimport requests" : "import requests", "");
    L.push(`url = ${pyStr(location.origin + SWAP_PATH)}`);
    L.push(`headers = {"x-api-key": ${pyStr(apiKey() || "YOUR_API_KEY")}}`);
    let call;
    if (parts.some((p) => p.file)) {
      const data = [];
      for (const p of parts) if (!p.file) data.push(`    ${pyStr(p.field)}: ${pyStr(p.url)},`);
      for (const [n, v] of fields) data.push(`    ${pyStr(n)}: ${pyStr(typeof v === "boolean" ? String(v) : v)},`);
      L.push("data = {", ...data, "}");
      L.push("files = {");
      for (const p of parts) if (p.file) L.push(`    ${pyStr(p.field)}: open(${pyStr(p.file)}, "rb"),`);
      L.push("}");
      call = "response = requests.post(url, headers=headers, data=data, files=files, timeout=120)";
    } else {
      L.push("payload = {");
      for (const p of parts) L.push(`    ${pyStr(p.field)}: ${pyStr(p.url)},`);
      for (const [n, v] of fields) L.push(`    ${pyStr(n)}: ${pyLit(v)},`);
      L.push("}");
      call = "response = requests.post(url, headers=headers, json=payload, timeout=120)";
    }
    L.push(call);
    L.push("if response.status_code == 200:");
    L.push(`    with open(${pyStr(out)}, "wb") as f:`);
    L.push(b64 ? `        f.write(base64.b64decode(response.json()["image"]))` : "        f.write(response.content)");
    L.push(`    print("saved ${out};", response.headers["X-Remaining-Credits"], "credits left")`);
    L.push("else:");
    L.push(`    print(response.status_code, response.json()["error"])`);
    return L.join("\n") + "\n";
  }

  async function copy(text, what) {
    const area = $("snippet");
    area.hidden = false;
    area.value = text;
    area.dataset.kind = what;
    area.rows = Math.min(text.split("\n").length + 1, 32);
    const note = $("copied");
    try {
      await navigator.clipboard.writeText(text);
      note.textContent = `Copied as ${what}.`;
    } catch (e) {
      area.focus();
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      note.textContent = ok ? `Copied as ${what}.` : `The browser refused the clipboard; the ${what} command is selected below.`;
    }
  }
  $("copy-curl").addEventListener("click", () => copy(curlSnippet(), "curl"));
  $("copy-python").addEventListener("click", () => copy(pythonSnippet(), "Python"));

  // ---- start -----------------------------------------------------------

  loadFields().then(() => {
    redraw();
    document.body.dataset.ready = "true";
    refreshCredits();
  });
})();
