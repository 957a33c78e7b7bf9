/*
 * tools.c - OpenAI function calling on a chat template that has no tool
 * syntax of its own. The tools are described in the conversation's system
 * message; a call is the assistant's whole reply written as one JSON
 * object, {"name": TOOL, "arguments": {...}}, and a tool's result comes
 * back as a message of the template's tool role. With tool_choice
 * "required" or a named tool, the reply is constrained (json_constraint)
 * to such an object, the arguments to the tool's parameters schema; with
 * "auto" the model may answer in text, and a reply that is such an object
 * is read as a call.
 */
#include "serve_internal.h"

#include "../core/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srv_tools_free(srv_tools *t) {
    for (int i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
    cJSON_Delete(t->defs);
    memset(t, 0, sizeof *t);
}

int srv_parse_tools(const cJSON *req, srv_tools *t, char *err) {
    memset(t, 0, sizeof *t);
    t->forced = -1;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req, "tools");
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(req, "tool_choice");
    if (!tools || cJSON_IsNull(tools)) {
        if (choice && !cJSON_IsNull(choice) && !(cJSON_IsString(choice) && !strcmp(choice->valuestring, "none")))
            return snprintf(err, SRV_ERR, "'tool_choice' needs 'tools'"), -1;
        return 0;
    }
    if (!cJSON_IsArray(tools) || cJSON_GetArraySize(tools) > 64)
        return snprintf(err, SRV_ERR, "'tools' must be an array of up to 64 tools"), -1;
    int n = cJSON_GetArraySize(tools), i = 0;
    t->names = xcalloc((size_t)n + 1, sizeof *t->names);
    const cJSON *x;
    cJSON_ArrayForEach(x, tools) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(x, "type");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(x, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "function") || !cJSON_IsObject(fn) ||
            !cJSON_IsString(name) || !name->valuestring[0] || strpbrk(name->valuestring, "\"\\") ||
            (params && !cJSON_IsObject(params))) {
            srv_tools_free(t);
            return snprintf(err, SRV_ERR,
                            "tools[%d] must be {\"type\": \"function\", \"function\": {\"name\", \"description\", "
                            "\"parameters\": {schema}}}", i), -1;
        }
        t->names[t->n++] = xstrdup(name->valuestring);
        i++;
    }
    t->defs = cJSON_Duplicate(tools, 1);
    t->mode = n ? TOOLS_AUTO : TOOLS_NONE;
    if (!choice || cJSON_IsNull(choice)) return 0;
    if (cJSON_IsString(choice)) {
        const char *c = choice->valuestring;
        if (!strcmp(c, "none")) t->mode = TOOLS_NONE;
        else if (!strcmp(c, "auto")) ;
        else if (!strcmp(c, "required")) t->mode = TOOLS_REQUIRED;
        else goto bad_choice;
        if (t->mode != TOOLS_NONE && !n) goto bad_choice;
        return 0;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "function"), "name");
    if (!cJSON_IsString(name)) goto bad_choice;
    for (int k = 0; k < t->n; k++)
        if (!strcmp(t->names[k], name->valuestring)) {
            t->forced = k;
            t->mode = TOOLS_REQUIRED;
            return 0;
        }
    srv_tools_free(t);
    return snprintf(err, SRV_ERR, "tool_choice names '%.100s', which is not among the tools", name->valuestring), -1;
bad_choice:
    srv_tools_free(t);
    return snprintf(err, SRV_ERR,
                    "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\"}}"),
           -1;
}

void srv_tools_apply(const srv_tools *t, srv_msgs *m) {
    if (t->mode == TOOLS_NONE) return;
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < t->n; i++) {
        if (t->forced >= 0 && i != t->forced) continue;
        cJSON *fn = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(t->defs, i), "function");
        cJSON_AddItemToArray(list, cJSON_Duplicate(fn, 1));
    }
    char *defs = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    const char *how = t->mode == TOOLS_REQUIRED ? "You must call one of them now."
                                                 : "Call one when it helps; otherwise answer in text.";
    size_t need = strlen(defs) + 400;
    char *text = xmalloc(need);
    snprintf(text, need,
             "You can call these tools: %s. To call a tool, reply with only a JSON object "
             "{\"name\": TOOL, \"arguments\": {...}}. %s", defs, how);
    free(defs);
    if (m->n && m->m[0].role == CHAT_SYSTEM) {
        size_t a = strlen(m->m[0].content), b = strlen(text);
        char *c = xmalloc(a + b + 2);
        memcpy(c, m->m[0].content, a);
        c[a] = '\n';
        memcpy(c + a + 1, text, b + 1);
        free((char *)m->m[0].content);
        free(text);
        m->m[0].content = c;
        return;
    }
    m->m = xrealloc(m->m, sizeof *m->m * (size_t)(m->n + 1));
    memmove(m->m + 1, m->m, sizeof *m->m * (size_t)m->n);
    m->m[0].role = CHAT_SYSTEM;
    m->m[0].content = text;
    m->n++;
}

json_constraint *srv_tools_constraint(const srv_tools *t) {
    cJSON *any = cJSON_CreateArray();
    for (int i = 0; i < t->n; i++) {
        if (t->forced >= 0 && i != t->forced) continue;
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(t->defs, i), "function");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        cJSON *o = cJSON_CreateObject(), *props;
        cJSON_AddStringToObject(o, "type", "object");
        props = cJSON_AddObjectToObject(o, "properties");
        cJSON_AddItemToObject(cJSON_AddObjectToObject(props, "name"), "const", cJSON_CreateString(t->names[i]));
        if (params) cJSON_AddItemToObject(props, "arguments", cJSON_Duplicate(params, 1));
        else cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "arguments"), "type", "object");
        cJSON *req = cJSON_AddArrayToObject(o, "required");
        cJSON_AddItemToArray(req, cJSON_CreateString("name"));
        cJSON_AddItemToArray(req, cJSON_CreateString("arguments"));
        cJSON_AddItemToArray(any, o);
    }
    cJSON *schema = cJSON_CreateObject();
    cJSON_AddItemToObject(schema, "anyOf", any);
    json_constraint *c = json_constraint_new(schema);
    cJSON_Delete(schema);
    if (!c) err_prefix("tools");
    return c;
}

char *srv_render_tool_calls(const cJSON *calls) {
    size_t len = 0;
    char *out = xstrdup("");
    const cJSON *c;
    cJSON_ArrayForEach(c, calls) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", cJSON_IsString(name) ? name->valuestring : "");
        cJSON *parsed = cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
        cJSON_AddItemToObject(o, "arguments", parsed ? parsed : cJSON_CreateObject());
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        size_t n = strlen(s);
        out = xrealloc(out, len + n + 1);
        memcpy(out + len, s, n + 1);
        len += n;
        free(s);
    }
    return out;
}

int srv_tools_parse_reply(const srv_tools *t, const char *text, char **args) {
    cJSON *j = cJSON_Parse(text);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "arguments");
    int found = -1;
    if (cJSON_IsObject(j) && cJSON_IsString(name) && cJSON_IsObject(a) && cJSON_GetArraySize(j) == 2)
        for (int i = 0; i < t->n && found < 0; i++)
            if (!strcmp(t->names[i], name->valuestring)) found = i;
    if (found >= 0) *args = cJSON_PrintUnformatted(a);
    cJSON_Delete(j);
    return found;
}
