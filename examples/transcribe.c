// SPDX-License-Identifier: LGPL-2.1-or-later
/* transcribe: print the Persian transcript of an audio file.
 *
 *   HARF_TOKEN=... transcribe FILE [HARF_URL]
 *
 * Builds   filesrc ! decodebin ! audioconvert ! persiantranscribe ! fakesink
 * and prints one line per "transcription" element message:
 *
 *   [0:00:01.200 -> 0:00:05.500] text
 *     uncertain: word word
 *
 * The token is not a command-line argument: persiantranscribe reads the
 * HARF_TOKEN environment variable itself when its "token" property is unset.
 * HARF_URL (for example the emulator's ws://127.0.0.1:<port>/...) replaces the
 * default wss://harf.roshan-ai.ir/ws_api/transcribe_files/wav/sync/.
 *
 * Exit status: 0 at end of stream, 1 on an error message, 2 on bad usage.
 * Ctrl-C sends EOS, so the results for the audio already sent still arrive;
 * a second Ctrl-C stops at once (exit status 130).
 */
#include <gst/gst.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  int status;
  gboolean interrupted;
} App;

/* H:MM:SS.mmm */
static void format_time(guint64 t, char *buf, size_t size)
{
  if (t == GST_CLOCK_TIME_NONE) {
    g_strlcpy(buf, "?:??:??.???", size);
    return;
  }
  guint64 ms = t / GST_MSECOND;
  g_snprintf(buf, size, "%" G_GUINT64_FORMAT ":%02u:%02u.%03u", ms / 3600000,
             (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60), (unsigned)(ms % 1000));
}

static void print_transcription(const GstStructure *s)
{
  guint64 timestamp = GST_CLOCK_TIME_NONE, duration = 0;
  gboolean final = TRUE;
  char start[32], end[32];

  gst_structure_get_uint64(s, "timestamp", &timestamp);
  gst_structure_get_uint64(s, "duration", &duration);
  gst_structure_get_boolean(s, "final", &final);
  format_time(timestamp, start, sizeof start);
  format_time(timestamp == GST_CLOCK_TIME_NONE ? timestamp : timestamp + duration, end, sizeof end);
  /* final is false only for revisions posted with partial-results=true */
  printf("[%s -> %s]%s %s\n", start, end, final ? "" : " (partial)",
         gst_structure_get_string(s, "text"));

  /* words: a GstValueArray of "word" structures */
  const GValue *words = gst_structure_get_value(s, "words");
  GString *uncertain = g_string_new(NULL);
  for (guint i = 0; words && i < gst_value_array_get_size(words); i++) {
    const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, i));
    gboolean is_uncertain = FALSE;
    if (gst_structure_get_boolean(w, "uncertain", &is_uncertain) && is_uncertain)
      g_string_append_printf(uncertain, " %s", gst_structure_get_string(w, "text"));
  }
  if (uncertain->len > 0)
    printf("  uncertain:%s\n", uncertain->str);
  g_string_free(uncertain, TRUE);
  fflush(stdout);
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
  App *app = data;
  (void)bus;

  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name(msg, "transcription"))
        print_transcription(gst_message_get_structure(msg));
      break;
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      gchar *debug = NULL;
      gboolean is_error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
      if (is_error)
        gst_message_parse_error(msg, &err, &debug);
      else
        gst_message_parse_warning(msg, &err, &debug);
      /* domain and code tell the cases apart, e.g. gst-resource-error-quark 15
       * (GST_RESOURCE_ERROR_NOT_AUTHORIZED) for a rejected token */
      fprintf(stderr, "%s from %s: %s (%s %d)\n", is_error ? "error" : "warning",
              GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), err->message, g_quark_to_string(err->domain),
              err->code);
      if (debug)
        fprintf(stderr, "  debug: %s\n", debug);
      g_clear_error(&err);
      g_free(debug);
      if (is_error) {
        app->status = 1;
        g_main_loop_quit(app->loop);
      }
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit(app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* The first Ctrl-C ends the stream cleanly; a second one stops at once. */
static gboolean on_sigint(gpointer data)
{
  App *app = data;
  if (app->interrupted) {
    app->status = 130;
    g_main_loop_quit(app->loop);
    return G_SOURCE_CONTINUE;
  }
  app->interrupted = TRUE;
  fprintf(stderr, "interrupted: finishing the stream (Ctrl-C again to stop now)\n");
  gst_element_send_event(app->pipeline, gst_event_new_eos());
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  App app = {NULL, NULL, 0, FALSE};
  GError *err = NULL;

  gst_init(&argc, &argv);
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: HARF_TOKEN=... %s FILE [HARF_URL]\n", argv[0]);
    return 2;
  }

  app.pipeline = gst_parse_launch(
      "filesrc name=src ! decodebin ! audioconvert "
      "! persiantranscribe name=asr ! fakesink",
      &err);
  /* A missing element is a "recoverable" parse error: a pipeline comes back
   * together with the error, without that element. */
  if (err) {
    fprintf(stderr, "cannot build the pipeline: %s\n", err->message);
    g_clear_error(&err);
    if (app.pipeline)
      gst_object_unref(app.pipeline);
    return 1;
  }

  GstElement *src = gst_bin_get_by_name(GST_BIN(app.pipeline), "src");
  g_object_set(src, "location", argv[1], NULL);
  gst_object_unref(src);
  if (argc == 3) {
    GstElement *asr = gst_bin_get_by_name(GST_BIN(app.pipeline), "asr");
    g_object_set(asr, "harf-url", argv[2], NULL);
    gst_object_unref(asr);
  }

  app.loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(app.pipeline);
  guint watch = gst_bus_add_watch(bus, on_bus_message, &app);
  gst_object_unref(bus);
  guint sigint = g_unix_signal_add(SIGINT, on_sigint, &app);

  /* A failure here (no token, bad URL) has already posted an ERROR message,
   * which the loop picks up. */
  gst_element_set_state(app.pipeline, GST_STATE_PLAYING);
  g_main_loop_run(app.loop);

  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  g_source_remove(sigint);
  g_source_remove(watch);
  gst_object_unref(app.pipeline);
  g_main_loop_unref(app.loop);
  return app.status;
}
