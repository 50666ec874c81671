// SPDX-License-Identifier: LGPL-2.1-or-later
#include "audio_windower.h"

#include <algorithm>
#include <cstring>

namespace pt {

namespace {

constexpr size_t kChunkFrames = 65536; /* bounds the scratch memory */

/* Every input channel weighs the same in the mono mix.  An explicit matrix
 * also lets unpositioned layouts (channel-mask=0) be mixed. */
GstStructure *make_mixer_config(int in_channels)
{
  GstStructure *config = gst_structure_new(
      "config", GST_AUDIO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_AUDIO_DITHER_METHOD,
      GST_AUDIO_DITHER_NONE, GST_AUDIO_CONVERTER_OPT_NOISE_SHAPING_METHOD,
      GST_TYPE_AUDIO_NOISE_SHAPING_METHOD, GST_AUDIO_NOISE_SHAPING_NONE, nullptr);
  if (in_channels > 1) {
    GValue matrix = G_VALUE_INIT, row = G_VALUE_INIT, v = G_VALUE_INIT;
    g_value_init(&matrix, GST_TYPE_ARRAY);
    g_value_init(&row, GST_TYPE_ARRAY);
    g_value_init(&v, G_TYPE_FLOAT);
    g_value_set_float(&v, 1.0f / static_cast<float>(in_channels));
    for (int i = 0; i < in_channels; ++i)
      gst_value_array_append_value(&row, &v);
    gst_value_array_append_and_take_value(&matrix, &row);
    gst_structure_take_value(config, GST_AUDIO_CONVERTER_OPT_MIX_MATRIX, &matrix);
    g_value_unset(&v);
  }
  return config;
}

GstStructure *make_resampler_config()
{
  return gst_structure_new("config", GST_AUDIO_CONVERTER_OPT_RESAMPLER_METHOD,
                           GST_TYPE_AUDIO_RESAMPLER_METHOD, GST_AUDIO_RESAMPLER_METHOD_KAISER,
                           nullptr);
}

bool is_service_format(const GstAudioInfo &in)
{
  return GST_AUDIO_INFO_FORMAT(&in) == GST_AUDIO_FORMAT_S16LE &&
         GST_AUDIO_INFO_CHANNELS(&in) == 1 &&
         GST_AUDIO_INFO_LAYOUT(&in) == GST_AUDIO_LAYOUT_INTERLEAVED;
}

}  // namespace

AudioWindower::AudioWindower(int out_rate, unsigned window_ms) : out_rate_(out_rate)
{
  window_bytes_ = static_cast<size_t>(out_rate) * 2u * window_ms / 1000u;
  if (window_bytes_ < 2)
    window_bytes_ = 2;
  window_bytes_ &= ~static_cast<size_t>(1);
  gst_audio_info_set_format(&out_info_, GST_AUDIO_FORMAT_S16LE, out_rate, 1, nullptr);
}

AudioWindower::~AudioWindower()
{
  free_stages();
}

void AudioWindower::free_stages()
{
  if (mixer_)
    gst_audio_converter_free(mixer_);
  if (resampler_)
    gst_audio_converter_free(resampler_);
  mixer_ = resampler_ = nullptr;
  configured_ = false;
}

bool AudioWindower::set_input(const GstAudioInfo &in, std::vector<Window> &out, std::string *err)
{
  if (configured_ && gst_audio_info_is_equal(&in, &in_))
    return true;
  if (configured_) {
    /* Drain the old resampler's tail, keep the partial window. */
    flush_converter(out);
    free_stages();
  }
  GstAudioInfo in_copy = in;
  GstAudioInfo mono;
  gst_audio_info_set_format(&mono, GST_AUDIO_FORMAT_S16LE, GST_AUDIO_INFO_RATE(&in), 1, nullptr);
  bool ok = GST_AUDIO_INFO_BPF(&in) > 0;
  if (ok && !is_service_format(in)) {
    mixer_ = gst_audio_converter_new(GST_AUDIO_CONVERTER_FLAG_NONE, &in_copy, &mono,
                                     make_mixer_config(GST_AUDIO_INFO_CHANNELS(&in)));
    ok = mixer_ != nullptr;
  }
  if (ok && GST_AUDIO_INFO_RATE(&in) != out_rate_) {
    resampler_ = gst_audio_converter_new(GST_AUDIO_CONVERTER_FLAG_NONE, &mono, &out_info_,
                                         make_resampler_config());
    ok = resampler_ != nullptr;
  }
  if (!ok) {
    free_stages();
    gchar *caps = nullptr;
    GstCaps *c = gst_audio_info_to_caps(&in_copy);
    if (c) {
      caps = gst_caps_to_string(c);
      gst_caps_unref(c);
    }
    *err = std::string("cannot convert ") + (caps ? caps : "this audio format") +
           " to S16LE mono at " + std::to_string(out_rate_) + " Hz";
    g_free(caps);
    return false;
  }
  in_ = in;
  configured_ = true;
  return true;
}

void AudioWindower::run_resampler(const uint8_t *pcm, size_t frames, std::vector<Window> &out)
{
  gsize out_frames = gst_audio_converter_get_out_frames(resampler_, frames);
  if (out_frames == 0 && !primed_)
    return; /* never asked of a fresh converter (see carry_) */
  scratch_.resize(out_frames * 2 + 2);
  gpointer in_planes[1] = {const_cast<uint8_t *>(pcm)};
  gpointer out_planes[1] = {scratch_.data()};
  if (pcm && frames > 0)
    converter_fed_ = true;
  if (!gst_audio_converter_samples(resampler_, GST_AUDIO_CONVERTER_FLAG_NONE,
                                   pcm ? in_planes : nullptr, frames, out_planes, out_frames))
    return;
  primed_ = primed_ || out_frames > 0;
  append(scratch_.data(), out_frames * 2, out);
}

void AudioWindower::resample(const uint8_t *pcm, size_t frames, std::vector<Window> &out)
{
  std::vector<uint8_t> joined;
  if (!carry_.empty()) {
    joined.swap(carry_);
    joined.insert(joined.end(), pcm, pcm + frames * 2);
    pcm = joined.data();
    frames = joined.size() / 2;
  }
  if (!primed_ && gst_audio_converter_get_out_frames(resampler_, frames) == 0) {
    carry_.assign(pcm, pcm + frames * 2);
    return;
  }
  for (size_t done = 0; done < frames;) {
    const size_t n = std::min(kChunkFrames, frames - done);
    run_resampler(pcm + done * 2, n, out);
    done += n;
  }
}

void AudioWindower::feed(const uint8_t *data, size_t frames, std::vector<Window> &out)
{
  const uint8_t *pcm = data;
  if (mixer_) {
    mixed_.resize(frames * 2);
    gpointer in_planes[1] = {const_cast<uint8_t *>(data)};
    gpointer out_planes[1] = {mixed_.data()};
    if (!gst_audio_converter_samples(mixer_, GST_AUDIO_CONVERTER_FLAG_NONE, in_planes, frames,
                                     out_planes, frames))
      return;
    pcm = mixed_.data();
  }
  if (resampler_)
    resample(pcm, frames, out);
  else
    append(pcm, frames * 2, out);
}

void AudioWindower::push(const uint8_t *data, size_t bytes, std::vector<Window> &out)
{
  if (!configured_)
    return;
  const size_t bpf = GST_AUDIO_INFO_BPF(&in_);
  const size_t frames = bpf ? bytes / bpf : 0;
  for (size_t done = 0; done < frames;) {
    const size_t n = std::min(kChunkFrames, frames - done);
    feed(data + done * bpf, n, out);
    done += n;
  }
}

void AudioWindower::push_silence(uint64_t duration_ns, std::vector<Window> &out)
{
  uint64_t samples = gst_util_uint64_scale(duration_ns, out_rate_, GST_SECOND);
  std::vector<uint8_t> zeros(std::min<uint64_t>(samples * 2, 65536), 0);
  uint64_t left = samples * 2;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
    append(zeros.data(), n, out);
    left -= n;
  }
}

void AudioWindower::flush_converter(std::vector<Window> &out)
{
  if (resampler_) {
    const gsize latency = gst_audio_converter_get_max_latency(resampler_);
    if (!carry_.empty()) {
      /* Never primed, so never fed: the held input and the resampler's
       * delay in silence, at once, give what a drain would. */
      std::vector<uint8_t> padded(carry_.size() + latency * 2, 0);
      memcpy(padded.data(), carry_.data(), carry_.size());
      carry_.clear();
      run_resampler(padded.data(), padded.size() / 2, out);
    } else if (latency > 0 && converter_fed_) {
      /* One never fed holds nothing (and crashes when asked to drain). */
      run_resampler(nullptr, latency, out);
    }
    gst_audio_converter_reset(resampler_);
  }
  if (mixer_)
    gst_audio_converter_reset(mixer_);
  converter_fed_ = false;
  primed_ = false;
}

void AudioWindower::drain(std::vector<Window> &out)
{
  if (configured_)
    flush_converter(out);
  if (!pending_.empty()) {
    out.push_back(std::move(pending_));
    pending_.clear();
  }
}

void AudioWindower::reset()
{
  if (resampler_)
    gst_audio_converter_reset(resampler_);
  if (mixer_)
    gst_audio_converter_reset(mixer_);
  converter_fed_ = false;
  primed_ = false;
  carry_.clear();
  pending_.clear();
  produced_ = 0;
}

void AudioWindower::append(const uint8_t *pcm, size_t bytes, std::vector<Window> &out)
{
  produced_ += bytes;
  while (bytes > 0) {
    if (pending_.capacity() < window_bytes_)
      pending_.reserve(window_bytes_);
    size_t n = std::min(bytes, window_bytes_ - pending_.size());
    pending_.insert(pending_.end(), pcm, pcm + n);
    pcm += n;
    bytes -= n;
    if (pending_.size() == window_bytes_) {
      out.push_back(std::move(pending_));
      pending_ = Window();
    }
  }
}

}  // namespace pt
