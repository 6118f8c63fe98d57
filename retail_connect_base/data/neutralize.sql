-- A copied database (staging, restored backup) must not talk to production:
-- pause every production backend until a manager resumes it.
UPDATE retail_backend
   SET state = 'paused',
       paused_reason = 'Database neutralized (copy or restore): production '
                       'backends are paused until a manager resumes them.'
 WHERE environment = 'production'
   AND state IN ('active', 'error');
