// The map's points drawn with WebGL: one vertex per point (position and RGBA colour in GPU
// buffers), drawn into an off-screen texture (the "snapshot") which each frame shows as one
// textured rectangle, so panning and zooming cost one rectangle per frame and the points are
// drawn again only when the view rests. A software GL (SwiftShader: about a million vertices a
// second on this project's CPUs) would take most of a second per million points; there the
// points are written into the texture by raster.js instead, many times faster
// (`renderer=webgl-points` keeps the GL's own points, for comparison).

import { rasterise } from "./raster.js";

const POINT_VS = `
attribute vec2 a_xy;
attribute vec4 a_colour;
uniform vec3 u_map;      // data -> snapshot pixels: px = x * s + ox, py = oy - y * s
uniform vec2 u_size;     // snapshot size in pixels
uniform float u_point;   // point side in pixels
varying vec4 v_colour;
void main() {
  vec2 px = vec2(a_xy.x * u_map.x + u_map.y, u_map.z - a_xy.y * u_map.x);
  px = floor(px) + 0.5 * u_point;   // whole pixels, the square's top-left at the point
  gl_Position = a_colour.a == 0.0 ? vec4(2.0, 2.0, 2.0, 1.0)
                                  : vec4(px.x / u_size.x * 2.0 - 1.0, 1.0 - px.y / u_size.y * 2.0, 0.0, 1.0);
  gl_PointSize = u_point;
  v_colour = a_colour;
}`;
const POINT_FS = `
precision mediump float;
varying vec4 v_colour;
void main() { gl_FragColor = v_colour; }`;
const QUAD_VS = `
attribute vec2 a_uv;
uniform vec4 u_rect;     // clip-space x0, y0 (top), x1, y1 (bottom)
varying vec2 v_uv;
void main() {
  v_uv = a_uv;
  gl_Position = vec4(mix(u_rect.x, u_rect.z, a_uv.x), mix(u_rect.w, u_rect.y, a_uv.y), 0.0, 1.0);
}`;
const QUAD_FS = `
precision mediump float;
uniform sampler2D u_tex;
varying vec2 v_uv;
void main() { gl_FragColor = texture2D(u_tex, v_uv); }`;

function program(gl, vs, fs, attributes) {
  const p = gl.createProgram();
  for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
    const sh = gl.createShader(type);
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(sh));
    gl.attachShader(p, sh);
  }
  attributes.forEach((name, k) => gl.bindAttribLocation(p, k, name));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
  const u = (name) => gl.getUniformLocation(p, name);
  return { p, u };
}

// the GL's device name (UNMASKED_RENDERER_WEBGL where the browser tells it)
export function glDevice(gl) {
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

export const isSoftware = (device) => /swiftshader|llvmpipe|software/i.test(device);

export class GLPainter {
  static create(canvas, glPoints = false) {
    const opts = { antialias: false, alpha: false, preserveDrawingBuffer: false };
    const gl = canvas.getContext("webgl2", opts) || canvas.getContext("webgl", opts);
    return gl ? new GLPainter(gl, glPoints) : null;
  }

  constructor(gl, glPoints) {
    this.gl = gl;
    this.kind = gl instanceof WebGL2RenderingContext ? "webgl2" : "webgl";
    this.device = glDevice(gl);
    this.cpuPoints = !glPoints && isSoftware(this.device);
    this.points = program(gl, POINT_VS, POINT_FS, ["a_xy", "a_colour"]);
    this.quad = program(gl, QUAD_VS, QUAD_FS, ["a_uv"]);
    this.xyBuffer = gl.createBuffer();
    this.colourBuffer = gl.createBuffer();
    this.uvBuffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.uvBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    this.maxSide = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE), gl.getParameter(gl.MAX_RENDERBUFFER_SIZE));
    this.targets = [this.target(), this.target()]; // [shown, being drawn]
  }

  target() {
    const gl = this.gl, texture = gl.createTexture(), fb = gl.createFramebuffer();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    for (const [k, v] of [[gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
    return { texture, fb, width: 0, height: 0, smooth: false };
  }

  setPoints(x, y) {
    this.x = x;
    this.y = y;
    const gl = this.gl, xy = new Float32Array(2 * x.length);
    for (let k = 0; k < x.length; k++) { xy[2 * k] = x[k]; xy[2 * k + 1] = y[k]; }
    gl.bindBuffer(gl.ARRAY_BUFFER, this.xyBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
    this.n = x.length;
  }

  setColours(words) {
    this.words = words;
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Uint8Array(words.buffer, words.byteOffset, words.byteLength), gl.STATIC_DRAW);
  }

  // start drawing a new snapshot of width × height pixels (transparent where no point lands)
  begin(width, height) {
    const gl = this.gl, t = this.targets[1];
    t.width = Math.min(width, this.maxSide);
    t.height = Math.min(height, this.maxSide);
    t.smooth = false;
    gl.bindTexture(gl.TEXTURE_2D, t.texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, t.width, t.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    this.filter(t);
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t.texture, 0);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    return [t.width, t.height];
  }

  filter(t) {
    const gl = this.gl, f = t.smooth ? gl.LINEAR : gl.NEAREST;
    gl.bindTexture(gl.TEXTURE_2D, t.texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, f);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, f);
  }

  drawPoints(geometry, pointSize) {
    const t = this.targets[1];
    if (this.cpuPoints) {
      const words = new Uint32Array(t.width * t.height);
      rasterise(words, t.width, t.height, this.x, this.y, this.words, geometry, pointSize);
      this.upload(t, t.width, t.height, new Uint8Array(words.buffer), false);
      return;
    }
    const gl = this.gl, { p, u } = this.points;
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
    gl.viewport(0, 0, t.width, t.height);
    gl.useProgram(p);
    gl.uniform3f(u("u_map"), geometry.s, geometry.ox, geometry.oy);
    gl.uniform2f(u("u_size"), t.width, t.height);
    gl.uniform1f(u("u_point"), pointSize);
    gl.disable(gl.BLEND);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.xyBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
    gl.enableVertexAttribArray(1);
    gl.vertexAttribPointer(1, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.drawArrays(gl.POINTS, 0, this.n);
    gl.disableVertexAttribArray(1);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  }

  // an RGBA image (row 0 at the top) into a snapshot texture
  upload(t, cols, rows, data, smooth) {
    const gl = this.gl;
    t.smooth = smooth;
    gl.bindTexture(gl.TEXTURE_2D, t.texture);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, true);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, cols, rows, 0, gl.RGBA, gl.UNSIGNED_BYTE, data);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    this.filter(t);
  }

  // fill the snapshot being drawn from an RGBA image (cols × rows), shown smoothly scaled
  putImage({ data, cols, rows }) {
    this.upload(this.targets[1], cols, rows, data, true);
  }

  commit() {
    this.targets.reverse();
  }

  // the shown snapshot over the background, at `rect` { x0, y0, x1, y1 } in canvas pixels
  present(rect, background) {
    const gl = this.gl, { p, u } = this.quad, W = gl.canvas.width, H = gl.canvas.height;
    gl.viewport(0, 0, W, H);
    gl.clearColor(...background, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!rect) return;
    gl.useProgram(p);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.uvBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindTexture(gl.TEXTURE_2D, this.targets[0].texture);
    gl.uniform4f(u("u_rect"), (rect.x0 / W) * 2 - 1, 1 - (rect.y0 / H) * 2, (rect.x1 / W) * 2 - 1, 1 - (rect.y1 / H) * 2);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}
