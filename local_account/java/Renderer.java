// API Gateway mapping templates rendered by Apache Velocity 1.7, the engine AWS documents for them, with
// $input, $util and $context written from AWS's reference:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
//
// A long-lived process: one JSON request per line on stdin, one JSON answer per line on stdout (every
// character outside ASCII written as a backslash-u escape, so that a lone UTF-16 surrogate survives the pipe).
// Request:  {"templateId": id, "template": text (the first time of an id), "body": text, "params": {"path": {}, "querystring": {}, "header": {}},
//            "context": {...}, "stageVariables": {...}}
// Answer:   {"body": text, "context": {...}} or {"error": text}: never a crash, whatever the input.
package ledger;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.spi.json.JacksonJsonProvider;
import com.jayway.jsonpath.spi.mapper.JacksonMappingProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.reflect.Array;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.Template;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.context.InternalContextAdapter;
import org.apache.velocity.exception.MethodInvocationException;
import org.apache.velocity.exception.ParseErrorException;
import org.apache.velocity.exception.ResourceNotFoundException;
import org.apache.velocity.exception.VelocityException;
import org.apache.velocity.runtime.directive.Foreach;
import org.apache.velocity.runtime.parser.node.Node;
import org.apache.velocity.runtime.RuntimeInstance;

public final class Renderer {
    /** Parsing JSON the way $input and $util.parseJson see it: numbers that fit an int are Integer, and so on. */
    static final ObjectMapper JSON = new ObjectMapper();
    /** Writing answers: ASCII only, so lone surrogates travel as escapes. */
    static final ObjectMapper PIPE = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
    static final Configuration PATHS = Configuration.builder()
            .jsonProvider(new JacksonJsonProvider(JSON))
            .mappingProvider(new JacksonMappingProvider(JSON))
            .build();

    private final RuntimeInstance velocity = new RuntimeInstance();
    /** Iterations of one #foreach that API Gateway allows. */
    static final int MAX_LOOPS = 1000;

    /**
     * #foreach, refusing to loop over more than MAX_LOOPS elements (a collection, map, array or string's
     * split), before it writes anything: a template must never depend on a loop that API Gateway cuts short.
     * Registered as a user directive under Velocity's own name, which replaces the built-in one.
     */
    public static final class CappedForeach extends Foreach {
        @Override
        public boolean render(InternalContextAdapter context, Writer writer, Node node)
                throws java.io.IOException, MethodInvocationException, ResourceNotFoundException, ParseErrorException {
            Object over = node.jjtGetChild(2).value(context);
            int size = over instanceof Collection<?> c ? c.size()
                    : over instanceof Map<?, ?> m ? m.size()
                    : over != null && over.getClass().isArray() ? Array.getLength(over)
                    : 0;
            if (size > MAX_LOOPS) {
                throw new VelocityException("#foreach over " + size + " elements: API Gateway allows " + MAX_LOOPS
                        + " iterations (line " + node.getLine() + ")");
            }
            return super.render(context, writer, node);
        }
    }
    /** Compiled templates by id; never evicted (the Python side sends a template's text only once). */
    private final Map<String, Template> compiled = new HashMap<>();

    Renderer() throws Exception {
        velocity.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        // API Gateway caps a #foreach at 1,000 iterations (its quotas page for REST APIs); what it does past
        // the cap is not documented, so here a loop over more fails the render (CappedForeach).
        velocity.setProperty("userdirective", CappedForeach.class.getName());
        velocity.init();
    }

    /**
     * The request's template, compiled once: a request names it by "templateId" and carries its "template"
     * text the first time (rendering never changes a compiled template, so one copy serves every render).
     */
    private Template template(Map<String, Object> request) throws Exception {
        String id = String.valueOf(request.get("templateId"));
        Template template = compiled.get(id);
        if (template == null) {
            Object text = request.get("template");
            if (text == null) {
                throw new IllegalStateException("unknown template " + id);
            }
            template = new Template();
            template.setRuntimeServices(velocity);
            template.setName("mapping-template");
            template.setData(velocity.parse(new StringReader(String.valueOf(text)), "mapping-template"));
            template.initDocument();
            compiled.put(id, template);
        }
        return template;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> render(Map<String, Object> request) throws Exception {
        Map<String, Object> context = (Map<String, Object>) request.getOrDefault("context", new LinkedHashMap<>());
        Map<String, Object> params = (Map<String, Object>) request.getOrDefault("params", new LinkedHashMap<>());
        VelocityContext names = new VelocityContext();
        names.put("input", new Input(String.valueOf(request.getOrDefault("body", "")), params));
        names.put("util", new Util());
        names.put("context", context);
        names.put("stageVariables", request.getOrDefault("stageVariables", new LinkedHashMap<>()));
        StringWriter out = new StringWriter();
        template(request).merge(names, out);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("body", out.toString());
        answer.put("context", context);
        return answer;
    }

    /** One line in, one line out; an error of any kind is an answer, never the end of the process. */
    String answer(String line) {
        Map<String, Object> answer;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> request = JSON.readValue(line, Map.class);
            answer = render(request);
        } catch (Throwable error) {
            answer = new LinkedHashMap<>();
            answer.put("error", error.getClass().getSimpleName() + ": " + error.getMessage());
        }
        try {
            return PIPE.writeValueAsString(answer);
        } catch (Exception error) {
            return "{\"error\": \"unwritable answer\"}";
        }
    }

    public static void main(String[] args) throws Exception {
        // Rendering runs on a thread with a deep stack: a deeply nested body is parsed, not refused.
        Thread worker = new Thread(null, Renderer::serve, "render", 1L << 30);
        worker.start();
        worker.join();
    }

    private static void serve() {
        try {
            Renderer renderer = new Renderer();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(renderer.answer(line));
                out.flush();
            }
        } catch (Exception error) {
            error.printStackTrace();
            System.exit(1);
        }
    }

    /** $input: the method request's payload and parameters. */
    public static final class Input {
        private final String body;
        private final Map<String, Object> params;
        private DocumentContext document;

        Input(String body, Map<String, Object> params) {
            this.body = body;
            this.params = params;
        }

        /** $input.body: the raw payload as a string. */
        public String getBody() {
            return body;
        }

        /** $input.json(x): the JSONPath expression's result as a JSON string (empty when nothing is there). */
        public String json(String path) throws Exception {
            Object found = find(path);
            return found == Missing.VALUE ? "" : JSON.writeValueAsString(found);
        }

        /** $input.path(x): the JSONPath expression's result as an object (null when nothing is there). */
        public Object path(String path) {
            Object found = find(path);
            return found == Missing.VALUE ? null : found;
        }

        private Object find(String path) {
            try {
                return document().read(path == null ? "$" : path);
            } catch (RuntimeException error) {
                return Missing.VALUE;
            }
        }

        /** The body parsed once per render: a template asks $input for several paths of the same body. */
        private DocumentContext document() {
            if (document == null) {
                document = JsonPath.using(PATHS).parse(body);
            }
            return document;
        }

        /** $input.params(): every parameter, as a map of path, querystring and header maps. */
        public Map<String, Object> params() {
            return params;
        }

        /** $input.params(x): the parameter from the path, the query string or a header, searched in that order. */
        @SuppressWarnings("unchecked")
        public Object params(String name) {
            for (String kind : new String[] {"path", "querystring", "header"}) {
                Object values = params.get(kind);
                if (values instanceof Map && ((Map<String, Object>) values).containsKey(name)) {
                    return ((Map<String, Object>) values).get(name);
                }
            }
            return "";
        }
    }

    enum Missing { VALUE }

    /** $util: the functions API Gateway documents. */
    public static final class Util {
        /** commons-lang 2.6's StringEscapeUtils.escapeJavaScript, which API Gateway documents. */
        public String escapeJavaScript(String text) {
            return StringEscapeUtils.escapeJavaScript(text);
        }

        /** "Stringified" JSON to an object: a map, a list, a string, a number or a boolean. */
        public Object parseJson(String text) throws Exception {
            return JSON.readValue(text, Object.class);
        }

        public String urlEncode(String text) {
            return URLEncoder.encode(text, StandardCharsets.UTF_8);
        }

        public String urlDecode(String text) {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        }

        public String base64Encode(String text) {
            return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String text) {
            return new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
        }
    }
}
